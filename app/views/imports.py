"""Lead file imports as a page: upload, a progress bar, then the report."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")
