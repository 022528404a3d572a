"""Offline stand-ins: the course runs with no API key, no Redis server and no network.

- `offline_model`: the deterministic chat model (and its recording variant);
- `openai_stub`: an OpenAI-compatible server answered by the offline model;
- `fake_redis_server`: fakeredis over a real socket;
- `offline_guard`: refuses network access beyond loopback; `_offline_site` holds the
  `sitecustomize` hook that switches it on in kernels and child processes.

Nothing is imported here, so a process that needs only the guard stays light.
"""
