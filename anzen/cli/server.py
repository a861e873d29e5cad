"""`anzen serve` (gunicorn, or Django's auto-reloading server with --reload) and `anzen worker`."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    serve = subparsers.add_parser("serve", help=_("Webサーバを起動する"))
    serve.add_argument("--host", default="127.0.0.1", help=_("待ち受けるアドレス（既定: 127.0.0.1）"))
    serve.add_argument("--port", type=int, default=8000, help=_("ポート番号（既定: 8000）"))
    serve.add_argument("--workers", type=int, default=2, help=_("gunicorn のワーカー数（既定: 2）"))
    serve.add_argument("--reload", action="store_true", help=_("開発用: コード変更時に自動で再起動する"))
    serve.set_defaults(handler=serve_run)

    worker = subparsers.add_parser("worker", help=_("バックグラウンド処理のワーカーを起動する"))
    worker.set_defaults(handler=worker_run)


def serve_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    print(_("Anzen を http://%(host)s:%(port)d/ で起動します（停止: Ctrl+C）") % {"host": args.host, "port": args.port},
          flush=True)
    if args.reload:
        from django.core.management import call_command

        call_command("runserver", f"{args.host}:{args.port}")
        return 0
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn", "--bind", f"{args.host}:{args.port}", "--workers", str(args.workers),
        "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1", "config.wsgi:application",
    ]
    run()
    return 0


def worker_run(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("db_worker")
    return 0
