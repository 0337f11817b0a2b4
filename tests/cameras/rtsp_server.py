"""Serve a real video clip as an RTSP camera, looping forever, as cheap cameras behave.

Runs under the system Python, which has GStreamer's introspection bindings:
    /usr/bin/python3 rtsp_server.py --port 8554 --clip video.avi [--user u --password p]
Prints "ready <port>" on stdout once clients can connect. FFmpeg decodes the clip in a loop
and GStreamer encodes it as a camera would, so timestamps keep rising across loops, unless
--restart-timestamps makes them start again, as some cameras' do. Other options choose Digest
rather than Basic authentication, H.265, an audio track, the transports offered, and a camera
that drops every connection after a while.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


class ClipFeeder:
    """Push a clip's frames, decoded by FFmpeg in an endless loop, into one media's appsrc."""

    def __init__(self, args: argparse.Namespace, appsrc: Gst.Element) -> None:
        """Start FFmpeg and the thread that feeds the appsrc."""
        self.frame_size = args.width * args.height * 3 // 2
        self.duration = Gst.SECOND // args.fps
        self.appsrc = appsrc
        self.restart_every = args.restart_timestamps
        self.running = True
        self.ffmpeg = subprocess.Popen(
            [
                "ffmpeg",
                "-v",
                "error",
                "-nostdin",
                "-stream_loop",
                "-1",
                "-i",
                args.clip,
                "-vf",
                f"scale={args.width}:{args.height},fps={args.fps}",
                "-pix_fmt",
                "yuv420p",
                "-f",
                "rawvideo",
                "pipe:",
            ],
            stdout=subprocess.PIPE,
        )
        self.thread = threading.Thread(target=self.feed, daemon=True)
        self.thread.start()

    def feed(self) -> None:
        """Copy frames with rising timestamps; appsrc blocks when the encoder is behind."""
        index = 0
        restart = self.restart_every
        while self.running:
            data = self.ffmpeg.stdout.read(self.frame_size)
            if len(data) < self.frame_size:
                break
            buffer = Gst.Buffer.new_wrapped(data)
            # Timestamps that start again from zero, as a camera's encoder restarting sends them.
            buffer.pts = (index % restart if restart else index) * self.duration
            buffer.duration = self.duration
            if self.appsrc.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                break
            index += 1
        self.stop()

    def stop(self) -> None:
        """Stop FFmpeg."""
        self.running = False
        if self.ffmpeg.poll() is None:
            self.ffmpeg.kill()
            self.ffmpeg.wait()


def launch_line(args: argparse.Namespace, caps: str) -> str:
    """Return the media pipeline: the clip encoded as asked, with an audio track if asked."""
    if args.codec == "h265":
        encoder = (
            f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps * 2} "
            f"bitrate={args.bitrate} ! rtph265pay name=pay0 pt=96 config-interval=1"
        )
    elif args.b_frames:
        # As cameras with a "smart" codec send: B-frames, which nothing refers to, between the rest.
        encoder = (
            f"x264enc speed-preset=ultrafast bframes={args.b_frames} b-adapt=false "
            f"b-pyramid=false key-int-max={args.fps * 2} bitrate={args.bitrate} "
            "! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=1"
        )
    else:
        encoder = (
            "x264enc tune=zerolatency speed-preset=ultrafast "
            f"key-int-max={args.fps * 2} bitrate={args.bitrate} "
            "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1"
        )
    audio = (
        " audiotestsrc is-live=true wave=pink-noise volume=0.05 ! audioconvert "
        "! opusenc ! rtpopuspay name=pay1 pt=97"
        if args.audio
        else ""
    )
    return (
        "( appsrc name=clip is-live=true do-timestamp=false format=time block=true "
        f'max-bytes={8 << 20} caps="{caps}" ! {encoder}{audio} )'
    )


def set_up_auth(
    args: argparse.Namespace,
    server: GstRtspServer.RTSPServer,
    factory: GstRtspServer.RTSPMediaFactory,
) -> None:
    """Ask clients for the user and password, by Basic or Digest authentication."""
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "viewer")
    if args.auth == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(args.user, args.password or "", token)
    else:
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role("viewer", "media.factory.access", True)
    permissions.add_permission_for_role("viewer", "media.factory.construct", True)
    factory.set_permissions(permissions)


def main() -> int:
    """Start the server and run until terminated."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--bitrate", type=int, default=1024)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--auth", choices=("basic", "digest"), default="basic")
    parser.add_argument("--codec", choices=("h264", "h265"), default="h264")
    parser.add_argument("--audio", action="store_true")
    parser.add_argument("--b-frames", type=int, default=0, metavar="COUNT")
    parser.add_argument("--transport", choices=("any", "tcp", "udp"), default="any")
    parser.add_argument("--restart-timestamps", type=int, default=0, metavar="FRAMES")
    parser.add_argument("--drop-every", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    caps = f"video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1"
    factory.set_launch(launch_line(args, caps))
    factory.set_shared(True)
    if args.transport != "any":
        lower = GstRtsp.RTSPLowerTrans
        factory.set_protocols(lower.TCP if args.transport == "tcp" else lower.UDP)

    def on_configure(
        _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia
    ) -> None:
        feeder = ClipFeeder(args, media.get_element().get_by_name("clip"))
        media.connect("unprepared", lambda _media: feeder.stop())

    factory.connect("media-configure", on_configure)
    if args.user:
        set_up_auth(args, server, factory)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print("could not bind", file=sys.stderr, flush=True)
        return 1
    if args.drop_every:

        def drop_clients() -> bool:
            # A camera that closes every session after a while, as some do every minute.
            server.client_filter(lambda _server, _client: GstRtspServer.RTSPFilterResult.REMOVE)
            return True

        GLib.timeout_add(int(args.drop_every * 1000), drop_clients)
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"ready {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
