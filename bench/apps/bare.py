"""The denominator: a bare Flask app answering {"ok": true}, served by the same gunicorn as vmo."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return {"ok": True}
