from django.utils import translation


class UserLanguageMiddleware:
    """Activates the signed-in user's chosen language (English or Dutch).

    Anonymous visitors get the language from the cookie / Accept-Language header via
    Django's LocaleMiddleware; a signed-in user's choice is stored on the user and wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
