"""`anzen vulns …`: the vulnerability watch on the command line.

`match` (this module) rematches the ledger against the CVE store and prints the findings by severity
and confidence; `import`, `fetch` and `check` (feeds and the CVE store) come from `cli_feeds`.
The CLI acts as `Actor.system()` but reads and writes through the same selectors and services as
the screens.
"""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    from anzen.vulns import cli_feeds

    parser = subparsers.add_parser("vulns", help=_("脆弱性の監視（CVE の取込・照合・確認）"))
    commands = parser.add_subparsers(dest="vulns_command", metavar=_("操作"))
    commands.required = True
    cli_feeds.register(commands)
