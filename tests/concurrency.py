"""Running work in several threads at once, as several web or worker processes would."""
import threading

from app.extensions import db


def at_once(app, *works) -> list[str]:
    """Run each callable in its own thread, with an app context (its own database session) of its own, all
    started together; return the errors they raised, so that a thread cannot fail silently."""
    start, errors = threading.Barrier(len(works)), []

    def run(work):
        with app.app_context():
            try:
                start.wait(timeout=10)
                work()
            except Exception as error:  # noqa: BLE001 (returned to the test, which asserts there are none)
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
