print("usage: device-sim run --target http://127.0.0.1:8080 --devices 100 --protocol mixed  (not built yet)")
