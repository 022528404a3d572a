"""The course's autograder: graded pytest tests run against untrusted student code.

One job per module:

- `defaults`: every limit and default, in one place;
- `collect`: find submissions (folders, zips) and unpack them safely;
- `plugin`: the pytest plugin of graded tests (markers, options, fixtures);
- `runtime`: one grading run's world (folder, uids, isolation plans, zygote);
- `plan`: the typed isolation plan handed to each confined process;
- `zygote`: the exec'd interpreter every confined process is forked from;
- `sandbox`: the grader's side of confined processes (student, services, cleanup);
- `confine`: operating-system confinement (namespaces, allowlist root, limits, uid);
- `child`: what runs inside a student's process (confinement, import, request loop);
- `services`: the fakes (fakeredis, the model stub) in a confined process of their own;
- `codec`: the wire format both ways (frames, values, operation names);
- `remote`: the grader's view of student objects (method calls, exceptions);
- `fakes`: the grader's view of one test's fakes (what was stored, what was sent);
- `score`: points from markers; `runner`: one submission under a wall-clock cap;
- `report`: results.json, JUnit XML, feedback, gradebook, statistics;
- `batch`: many submissions in parallel; `release`, `gradescope`: what ships;
- `cli`: `python -m grading check|grade|batch|release|gradescope`.

See grading/README.md for the instructor guide.
"""
