from services.kit.run import serve
from services.notify.app import create_app
from services.notify.settings import NotifySettings

settings = NotifySettings()
serve(create_app(settings), host=settings.host, port=settings.port)
