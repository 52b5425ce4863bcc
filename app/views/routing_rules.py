"""The brand's routing rules, edited by the OEM admin."""
from flask import Blueprint

bp = Blueprint("routing_rules", __name__, url_prefix="/routing-rules")
