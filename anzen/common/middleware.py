"""Japanese first: the language is the one the user chose (cookie), otherwise Japanese.

Django's LocaleMiddleware would follow the browser's Accept-Language and show a half-English
screen to a ward PC set up in English; here the browser's preference is deliberately ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # override (not activate): the thread's language goes back afterwards, so nothing that runs
        # later in this thread (tests, management code) inherits a user's choice.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
