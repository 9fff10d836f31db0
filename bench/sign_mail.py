"""Benchmark of the mail work inside a sign request, and of the worker's rendering, in one process and one run.

Against a throw-away SQLite database with one open campaign, each case runs N times (after a warm-up) and prints
the mean and p95 cost per signature in milliseconds:

  queue-refs     what the sign request now does for its mail: one outbox row with references and the address and
                 first name encrypted (mailer.enqueue_signature_mail), flushed
  render-in-req  the baseline, what the sign request did before: three link tokens issued and both bodies
                 rendered (mailer.signer_links + mailer.compose), the row flushed
  sign           signing.service.sign end to end (signature row, count, outbox row, commit), per signature
  worker-render  what the worker now does per signer mail before sending: decrypt, issue links, render, encrypt

Times depend on the machine and the run; the ratio of queue-refs to render-in-req measured in the same run is the
figure that counts. Nothing here asserts on time.

    .venv/bin/python bench/sign_mail.py [-n 300]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from petition_app import create_app, mailer  # noqa: E402
from petition_app.extensions import db  # noqa: E402
from petition_app.models import Campaign, CampaignStatus, Organisation, OutboxMessage, Signature  # noqa: E402
from petition_app.privacy import coarse_now, email_hash  # noqa: E402
from petition_app.signing.service import SignatureInput, sign  # noqa: E402
from petition_app.templating import public_url  # noqa: E402


def _signature(campaign: Campaign, i: int, tag: str) -> Signature:
    signature = Signature(campaign_id=campaign.id, first_name="Anna", last_name="Ivanova", email=f"{tag}{i}@example.org",
                          email_hash=email_hash(f"{tag}{i}@example.org"), country="DE", language="en",
                          created_at=coarse_now())
    db.session.add(signature)
    db.session.flush()
    return signature


def _measure(label: str, n: int, step) -> list[float]:
    for i in range(10):  # warm-up: templates compiled, statements cached
        step(-1 - i)
    times = []
    for i in range(n):
        started = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - started) * 1000)
    db.session.commit()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="petition-bench-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(folder), "RATELIMIT_ENABLED": False})
    results = {}
    try:
        _run(app, args.n, results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'case':<15}{'mean ms':>10}{'p95 ms':>10}   (n={args.n}, SQLite, one process)")
    for label, times in results.items():
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"{label:<15}{statistics.fmean(times):>10.3f}{p95:>10.3f}")
    ratio = statistics.fmean(results["queue-refs"]) / statistics.fmean(results["render-in-req"])
    print(f"queue-refs / render-in-req: {ratio:.2f}x")


def _run(app, n: int, results: dict) -> None:
    with app.app_context():
        db.create_all()
        org = Organisation(slug="org", name="Org")
        campaign = Campaign(slug="bench", title="Stop the ban", organisation=org, status=CampaignStatus.OPEN, goal=10)
        db.session.add(campaign)
        db.session.commit()

        def queue_refs(i):
            mailer.enqueue_signature_mail("confirm", campaign, _signature(campaign, i, "q"), f"q{i}@example.org", "Anna")
            db.session.flush()

        def render_in_request(i):
            signature = _signature(campaign, i, "r")
            links = mailer.signer_links(signature)
            mailer.compose("confirm", "en", campaign=campaign, first_name="Anna", discreet=False,
                           campaign_url=public_url("campaigns.show", slug=campaign.slug), **links)
            db.session.flush()

        def sign_end_to_end(i):
            sign(campaign, SignatureInput("Anna", "Ivanova", f"s{i}@example.org", "DE"))

        results["queue-refs"] = _measure("queue-refs", n, queue_refs)
        results["render-in-req"] = _measure("render-in-req", n, render_in_request)
        results["sign"] = _measure("sign", n, sign_end_to_end)

        queued = db.session.execute(
            db.select(OutboxMessage).where(OutboxMessage.signature_id.is_not(None)).limit(n)
        ).scalars().all()

        def worker_render(i):
            message = queued[i % len(queued)]
            payload = mailer.open_payload(message)
            rendered = mailer._render_signer_mail(message, payload)  # noqa: SLF001 (the worker's own step)
            mailer.seal_payload(rendered)

        results["worker-render"] = _measure("worker-render", min(n, len(queued)), worker_render)
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
