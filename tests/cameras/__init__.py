"""Real camera servers on 127.0.0.1 for the tests: RTSP, HTTP MJPEG and HTTP snapshots."""
