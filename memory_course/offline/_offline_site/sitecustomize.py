# Loaded at start-up by Python processes whose PYTHONPATH includes this folder
# (see memory_course.offline.offline_guard.kernel_environment): switches the network guard on.
import os

if os.environ.get("MEMORY_COURSE_OFFLINE") == "1":
    from memory_course.offline import offline_guard

    offline_guard.install()
