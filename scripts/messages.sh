#!/usr/bin/env bash
# Regenerate the English message catalog and compile it.
#
#   scripts/messages.sh
#
# makemessages merges: existing translations are kept, new msgids are added with an empty msgstr,
# msgids no longer in the source are dropped (--no-obsolete). Translate the new entries in
# anzen/locale/en/LC_MESSAGES/django.po (no fuzzy, no empty msgstr), then run this script again so
# django.mo matches. tests/test_translations.py fails while anything is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python manage.py makemessages -l en \
    --ignore=.venv --ignore=tests --ignore=benchmarks --ignore=var --ignore=build --no-obsolete

cd anzen/locale/en/LC_MESSAGES
msgfmt --check -o django.mo django.po
