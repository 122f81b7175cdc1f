"""The baseline: a bare Tornado handler that answers 202 and does nothing.

It reads the body like any handler would and stores nothing, so it is the
framework's own ceiling on this machine. ``python benchmarks/baseline_server.py PORT``
"""

from __future__ import annotations

import asyncio
import sys

import tornado.web


class Accept(tornado.web.RequestHandler):
    def check_xsrf_cookie(self):  # an API without cookies, like the kit's server
        pass

    def post(self, *args):
        self.set_status(202)

    get = post


async def main(port: int) -> None:
    app = tornado.web.Application([(r"/.*", Accept)], debug=False, autoreload=False,
                                  log_function=lambda handler: None)
    app.listen(port, "127.0.0.1", max_body_size=1024 * 1024 * 1024)
    print(f"baseline listening on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8099))
