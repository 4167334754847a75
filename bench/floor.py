"""The framework's floor: a bare Flask view returning a short string. bench/run.py serves
it under the same gunicorn settings as Tessera and measures every scenario against it."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
