"""The course as a whole and its support package: environment, tooling, notebooks."""
