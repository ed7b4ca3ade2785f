print("usage: collector serve [--listen 127.0.0.1:8080] [--db data/telemetry.db] [--loops N]  (not built yet)")
