from services.audit.app import create_app
from services.audit.settings import AuditSettings
from services.kit.run import run_service

run_service("audit", AuditSettings, create_app)
