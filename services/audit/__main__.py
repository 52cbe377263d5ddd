from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.kit.run import serve

settings = AuditSettings()
serve(create_app(settings), host=settings.host, port=settings.port)
