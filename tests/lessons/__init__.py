"""What the lessons teach: their worked solutions and the support modules they use."""
