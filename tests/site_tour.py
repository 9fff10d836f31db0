"""Every page of the site, public and admin, with the data that makes each one show its content.

``prepare_site(app)`` loads the demo content and adds what the demo lacks (admin accounts, signatures, mailed
links, proposals in every state, an update, an audit entry); ``public_pages`` and ``admin_pages`` list the URLs
to visit. Admin URLs come from the URL map, so a new admin page is visited as soon as it exists (or the tour
fails, naming it). The validity and accessibility checks (vnu, axe, page width, console errors) share this tour.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from petition_app import audit, mailings, site_logo, site_settings, tokens
from petition_app.admin import accounts
from petition_app.demo.loader import load_demo
from petition_app.extensions import db
from petition_app.models import (
    AccountToken,
    Campaign,
    CampaignStatus,
    Invitation,
    MailingStatus,
    Membership,
    Role,
    Signature,
    User,
)
from petition_app.passwords import hash_password
from petition_app.signing.service import SignatureInput, sign
from petition_app.signing.service import confirm as confirm_signature
from petition_app.starter import service as starter_service

PASSWORD = "a long enough tour password"
SUPERUSER = "super@tour.example.org"
OWNER = "owner@tour.example.org"
SLUG = "russia-oppose-lgbt-criminalization"  # the campaign that gets signatures, links and an update
CLOSED_SLUG = "iran-save-sareh-and-elham"  # closed by the tour, to show the closed state
LANGUAGES = ("en", "ru", "uk")

# Documents made to be shown only inside a sandboxed frame (no script runs there, so a browser check cannot either):
# the Nu checker reads them, the browser tour checks the page that frames them.
FRAME_DOCUMENTS = {"admin.mailing_preview_html"}

# Admin GET routes that answer something other than an HTML page.
NOT_HTML = {"admin.export_delivery_csv", "admin.export_full_csv", "admin.mailing_opted_in_csv"}


@dataclass
class Site:
    campaign_id: int
    org_slug: str
    signature_id: int
    update_id: int
    pending_starter_id: int
    approved_starter_id: int
    links: dict[str, str] = field(default_factory=dict)  # name -> path with a live token
    webhook_endpoint_id: int = 0
    webhook_delivery_id: int = 0
    mailing_id: int = 0  # a draft update mailing
    sending_mailing_id: int = 0  # one being sent


@dataclass(frozen=True)
class Visit:
    name: str
    path: str
    method: str = "GET"
    data: tuple[tuple[str, str], ...] = ()  # form fields for a POST; the CSRF token is added from ``form_page``
    form_page: str = ""
    status: int = 200  # what the page must answer: a 404 where a 200 was meant would skip the page's content


def _proposal(title: str, name: str, email: str) -> starter_service.Proposal:
    return starter_service.Proposal(
        public_name=name, email=email, title=title, lead="A short summary of the proposal.",
        body="Why it **matters**, in a few words.", targets="The city council", demands="Lift the ban\nMeet us",
        goal=2500, language="en",
    )


def _logo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((4, 4, 76, 76), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def prepare_site(app) -> Site:
    """Demo content plus accounts, signatures, tokens and proposals; every page below then has content."""
    with app.app_context():
        load_demo()
        campaign = db.session.execute(sa.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        org = campaign.organisation
        db.session.add(User(email=SUPERUSER, password_hash=hash_password(PASSWORD), is_superuser=True))
        owner = User(email=OWNER, password_hash=hash_password(PASSWORD))
        db.session.add(owner)
        db.session.flush()
        db.session.add(Membership(user_id=owner.id, organisation_id=org.id, role=Role.OWNER))
        db.session.commit()
        add_pictures(campaign, org)

        people = [("Anna", "Ivanova", "DE"), ("Jean", "Dupont", "FR"), ("Константин", "Константинопольский", "RU"),
                  ("Greta", "Berg", "SE")]
        for i, (first, last, country) in enumerate(people):
            sign(campaign, SignatureInput(first, last, f"tour{i}@example.org", country, phone="+49 151 0000000",
                                          consent_email=True, consent_sms=i == 0, language="en"))
        signatures = db.session.execute(
            sa.select(Signature).where(Signature.campaign_id == campaign.id).order_by(Signature.id)
        ).scalars().all()
        confirm_signature(signatures[1])
        unconfirmed, confirmed = signatures[0], signatures[1]
        links = {
            "confirm": "/s/confirm/" + tokens.issue(tokens.CONFIRM, 7, signature_id=unconfirmed.id),
            "confirmed": "/s/confirm/" + tokens.issue(tokens.CONFIRM, 7, signature_id=confirmed.id),
            "withdraw": "/s/withdraw/" + tokens.issue(tokens.WITHDRAW, 7, signature_id=signatures[2].id),
            "unsubscribe": "/s/unsubscribe/" + tokens.issue(tokens.UNSUBSCRIBE, 7, signature_id=signatures[3].id),
        }

        pending = starter_service.propose(_proposal("Stop the ban on Pride marches", "Coming Out group",
                                                    "pending@tour.example.org"))
        links["start_confirm"] = "/start/confirm/" + tokens.issue(starter_service.CONFIRM, 7, starter_id=pending.id)
        starter_service.confirm(pending)
        approved = starter_service.propose(_proposal("Open the shelters to everyone", "Shelter volunteers",
                                                     "approved@tour.example.org"))
        starter_service.confirm(approved)
        starter_service.approve(approved)
        links["dashboard"] = "/start/dashboard/" + tokens.issue(starter_service.DASHBOARD, 7, starter_id=approved.id)
        starter_service.post_update(approved, "Handed over", "We handed the signatures over today.")

        # Site settings as an NGO would set them: its colour and a footer line in each language.
        site_settings.save({("primary_colour", ""): "#1a5c3a", ("footer_text", "en"): "Run by the tour collective.",
                            ("footer_text", "ru"): "Сайт ведёт коллектив.", ("site_name", "en"): "Tour petitions",
                            **site_logo.settings_values(_logo_png())})
        update = campaign.updates[0]
        closed = db.session.execute(sa.select(Campaign).where(Campaign.slug == CLOSED_SLUG)).scalar_one()
        closed.status = CampaignStatus.CLOSED
        campaign.deadline = datetime.now(timezone.utc) + timedelta(days=90)  # "Closes on …" on its page and cards
        audit.record("campaign edited", target=campaign.title, organisation_id=org.id,
                     detail="fields: lead, body, petition_text, petition_closing, demands, goal")
        # Live account links: an invitation to the organisation and a password reset for one of its members.
        invitation_token, reset_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc)
        db.session.add(Invitation(organisation_id=org.id, email="invitee@tour.example.org", role=Role.EDITOR,
                                  token_hash=accounts._hash(invitation_token), expires_at=now + timedelta(days=1)))
        resetting = User(email="resetting@tour.example.org", password_hash=hash_password("tour-password-1"))
        db.session.add(resetting)
        db.session.flush()
        db.session.add(AccountToken(user_id=resetting.id, purpose=accounts.RESET,
                                    token_hash=accounts._hash(reset_token), expires_at=now + timedelta(hours=1)))
        links["invitation_token"], links["reset_token"] = invitation_token, reset_token
        db.session.commit()
        endpoint, delivery = _webhook(org, campaign)
        site = Site(campaign_id=campaign.id, org_slug=org.slug, signature_id=confirmed.id, update_id=update.id,
                    pending_starter_id=pending.id, approved_starter_id=approved.id, links=links,
                    webhook_endpoint_id=endpoint, webhook_delivery_id=delivery)
        site.mailing_id, site.sending_mailing_id = _mailings(campaign)
        db.session.remove()
    return site


def _picture(width: int, height: int) -> bytes:
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (91, 42, 134))
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(((228, 3, 3), (255, 140, 0), (255, 237, 0), (0, 128, 38), (36, 64, 142))):
        draw.rectangle((0, height * i // 6, width, height * (i + 1) // 6), fill=colour)
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add_pictures(campaign: Campaign, org) -> None:
    """A picture for the tour's campaign and one it lists under "more ways to take action", and a logo."""
    from petition_app import images
    from petition_app.models import CampaignImage, OrganisationLogo

    other = db.session.execute(sa.select(Campaign).where(
        Campaign.slug == "no-more-closed-doors-russian-transgender-people")).scalar_one()
    for target, alt in ((campaign, "A rainbow flag"), (other, "Stripes in the colours of the rainbow")):
        stored = images.store_bytes(_picture(1600, 900), "campaign")
        db.session.add(CampaignImage(campaign_id=target.id, alt=alt, name=stored.name, width=stored.width,
                                     height=stored.height, widths=stored.widths_text))
    logo = images.store_bytes(_picture(300, 300), "logo")
    db.session.add(OrganisationLogo(organisation_id=org.id, name=logo.name, width=logo.width, height=logo.height,
                                    widths=logo.widths_text))
    db.session.commit()


def _webhook(org, campaign) -> tuple[int, int]:
    """A webhook endpoint with a delivered, a failed and a queued delivery (its log shows every state)."""
    from petition_app import webhooks
    from petition_app.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint(organisation_id=org.id, url="https://crm.example.org/hooks/petitions",
                               description="CRM", secret=webhooks._seal(webhooks.new_secret().encode()),
                               events=" ".join(webhooks.EVENTS), consecutive_failures=2)
    db.session.add(endpoint)
    db.session.flush()
    now = datetime.now(timezone.utc)
    failed = None
    for status, code, error in [(DeliveryStatus.DELIVERED, 204, ""),
                                (DeliveryStatus.FAILED, 503, "the endpoint answered HTTP 503"),
                                (DeliveryStatus.QUEUED, None, "ConnectionRefusedError: [Errno 111] refused")]:
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type=webhooks.SIGNATURE_CONFIRMED,
                                   webhook_id=f"msg_{secrets.token_hex(8)}", status=status, campaign_id=campaign.id,
                                   payload=None if status == DeliveryStatus.DELIVERED else webhooks._seal(b"{}"),
                                   attempts=1 if code != 503 else 18, attempted_at=now, last_status_code=code,
                                   last_error=error)
        db.session.add(delivery)
        db.session.flush()
        failed = delivery.id if status == DeliveryStatus.FAILED else failed
    db.session.commit()
    return endpoint.id, failed


def _mailings(campaign: Campaign) -> tuple[int, int]:
    """A draft update mailing in every language, and one being sent (its progress); returns their ids."""
    texts = {language: ("The petition was delivered", "We **handed it over** today. Thank you!")
             for language in mailings.languages(campaign)}
    sending = mailings.create(campaign, texts)
    mailings.change_status(sending, campaign, MailingStatus.SENDING)
    draft = mailings.create(campaign, texts)
    db.session.commit()
    return draft.id, sending.id


def public_pages(site: Site) -> list[Visit]:
    """Every public page a visitor can open (GET), in whatever language the client asks for."""
    campaigns = [SLUG, "no-more-closed-doors-russian-transgender-people", "russia-stop-lgbtqqia-criminalization",
                 "fifa-tell-qatar-love-is-not-a-crime", "abolish-the-religious-discrimination-bill", CLOSED_SLUG]
    visits = [Visit("home", "/")]
    visits += [Visit(f"campaign {slug}", f"/campaigns/{slug}") for slug in campaigns]
    visits += [
        Visit("thanks", f"/campaigns/{SLUG}/thanks"),
        Visit("campaign version in Russian", f"/ru/campaigns/{SLUG}"),
        Visit("thanks in Russian", f"/ru/campaigns/{SLUG}/thanks"),
        Visit("campaign without a Russian version", f"/ru/campaigns/{CLOSED_SLUG}"),
        Visit("embed", f"/campaigns/{SLUG}/embed"), Visit("embed thanks", f"/campaigns/{SLUG}/embed/thanks"),
        Visit("embed of a closed campaign", f"/campaigns/{CLOSED_SLUG}/embed"),
        Visit("privacy", "/privacy"), Visit("terms", "/terms"), Visit("contact", "/contact"), Visit("faq", "/faq"),
        Visit("start", "/start"), Visit("start sent", "/start/sent"), Visit("start link", "/start/link"),
        Visit("confirm signature", site.links["confirm"]),
        Visit("signature already confirmed", site.links["confirmed"]),
        Visit("withdraw", site.links["withdraw"]), Visit("unsubscribe", site.links["unsubscribe"]),
        Visit("starter confirm", site.links["start_confirm"]),
        Visit("starter dashboard", site.links["dashboard"]),
        Visit("starter delivery list", site.links["dashboard"] + "/delivery"),
        Visit("invalid signing link", "/s/confirm/no-such-token", status=404),
        Visit("invalid starter link", "/start/dashboard/no-such-token", status=404),
        Visit("not found", "/campaigns/no-such-campaign", status=404),
        Visit("admin login", "/admin/login"),
    ]
    return visits


def public_posts(site: Site) -> list[Visit]:
    """The pages a visitor sees after submitting a form: error states and done states (no JavaScript)."""
    sign_page = f"/campaigns/{SLUG}"
    return [
        Visit("sign with errors", f"/campaigns/{SLUG}/sign", "POST",
              (("first_name", ""), ("last_name", "Ivanova"), ("email", "not-an-email"), ("country", "DE")),
              sign_page, 422),
        Visit("sign in the embed with errors", f"/campaigns/{SLUG}/sign", "POST",
              (("first_name", ""), ("last_name", "Ivanova"), ("email", "not-an-email"), ("country", "DE"),
               ("embed", "1")), f"/campaigns/{SLUG}/embed", 422),
        Visit("start with errors", "/start", "POST", (("public_name", "Group"), ("email", "nope")), "/start", 422),
        Visit("start link with errors", "/start/link", "POST", (("email", "nope"),), "/start/link", 422),
        Visit("start link sent", "/start/link", "POST", (("email", "someone@example.org"),), "/start/link"),
        Visit("admin login with errors", "/admin/login", "POST", (("email", "x"), ("password", "")), "/admin/login",
              422),
        # Done states last: they use up the links.
        Visit("signature confirmed", site.links["confirm"], "POST", (), site.links["confirm"]),
        Visit("unsubscribed", site.links["unsubscribe"], "POST", (), site.links["unsubscribe"]),
        Visit("signature withdrawn", site.links["withdraw"], "POST", (), site.links["withdraw"]),
    ]


def _rule_values(rule, site: Site) -> dict:
    values = {"campaign_id": site.campaign_id, "signature_id": site.signature_id, "update_id": site.update_id,
              "starter_id": site.pending_starter_id, "org_slug": site.org_slug, "name": "privacy", "language": "ru",
              "version": "ru",  # the demo's Russian version of SLUG
              "endpoint_id": site.webhook_endpoint_id, "delivery_id": site.webhook_delivery_id,
              "mailing_id": site.mailing_id,
              "token": site.links["reset_token" if rule.endpoint == "admin.reset_password" else "invitation_token"]}
    missing = set(rule.arguments) - set(values)
    assert not missing, f"the tour does not know how to fill {sorted(missing)} in {rule.rule}: add it to site_tour"
    return {name: values[name] for name in rule.arguments}


def admin_pages(app, site: Site) -> list[Visit]:
    """Every admin page (GET) from the URL map, filled with the tour's data, plus a few second views."""
    visits = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin") or "GET" not in rule.methods or rule.endpoint in NOT_HTML:
            continue
        if rule.endpoint in ("admin.login", "admin.login_code"):
            continue  # the public tour has the login, logged out; the code step exists only halfway through a login
        path = rule.build(_rule_values(rule, site))[1]
        visits.append(Visit(rule.endpoint, path))
    visits.append(Visit("approved proposal", f"/admin/moderation/{site.approved_starter_id}"))
    visits.append(Visit("site page in English", "/admin/pages/contact/en"))
    visits.append(Visit("mailing being sent", f"/admin/campaigns/{site.campaign_id}/mailings/{site.sending_mailing_id}"))
    return visits


def admin_posts(site: Site) -> list[Visit]:
    """Admin forms sent back with errors."""
    campaign = f"/admin/campaigns/{site.campaign_id}"
    return [
        Visit("new campaign with errors", "/admin/campaigns/new", "POST", (("title", ""), ("slug", "Not a slug!")),
              "/admin/campaigns/new", 422),
        Visit("update with errors", f"{campaign}/updates", "POST", (("published_on", ""), ("body", "")),
              f"{campaign}/updates", 422),
        Visit("password with errors", "/admin/password", "POST", (("current", "wrong"), ("new", "short")),
              "/admin/password", 422),
        Visit("site settings with errors", "/admin/settings", "POST",
              (("primary_colour", "#ffcc00"), ("site_name_en", "x" * 101)), "/admin/settings", 422),
        Visit("organisation details with errors", f"/admin/orgs/{site.org_slug}/details", "POST",
              (("name", ""), ("website", "not a web address")), f"/admin/orgs/{site.org_slug}/details", 422),
        Visit("embed sites with errors", f"{campaign}/embed", "POST", (("origins", "https://*.example.org"),),
              f"{campaign}/embed", 422),
        Visit("webhook with errors", f"/admin/orgs/{site.org_slug}/webhooks", "POST",
              (("url", "http://10.0.0.1/hook"), ("detail", "counts")), f"/admin/orgs/{site.org_slug}/webhooks", 422),
    ]


def owner_pages(site: Site) -> list[Visit]:
    """The pages an organisation's owner sees differently from a superuser (navigation, scoped lists)."""
    campaign = f"/admin/campaigns/{site.campaign_id}"
    return [Visit("owner: dashboard", "/admin/"), Visit("owner: campaign", campaign),
            Visit("owner: signatures", f"{campaign}/signatures"), Visit("owner: edit", f"{campaign}/edit"),
            Visit("owner: organisation", f"/admin/orgs/{site.org_slug}"),
            Visit("owner: organisation details", f"/admin/orgs/{site.org_slug}/details"),
            Visit("owner: audit log", f"/admin/orgs/{site.org_slug}/audit"),
            Visit("owner: webhooks", f"/admin/orgs/{site.org_slug}/webhooks"),
            Visit("owner: webhook", f"/admin/orgs/{site.org_slug}/webhooks/{site.webhook_endpoint_id}")]


_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
                    r'|"X-CSRFToken": "([^"]+)"')


def form_token(client, path: str, headers: dict) -> dict:
    """The CSRF field of the form on ``path``, as a browser would send it (nothing if the page has none)."""
    html = client.get(path, headers=headers).get_data(as_text=True)
    match = _TOKEN.search(html)
    return {"csrf_token": next(g for g in match.groups() if g)} if match else {}


def fetch(client, visit: Visit, language: str):
    """The response a browser in ``language`` gets for a visit (a POST sends the form's token, same-origin)."""
    headers = {"Accept-Language": language, "Sec-Fetch-Site": "same-origin"}
    if visit.method == "GET":
        return client.get(visit.path, headers=headers)
    data = {**dict(visit.data), **form_token(client, visit.form_page, headers)}
    return client.post(visit.path, data=data, headers=headers)


def log_in(client, email: str = SUPERUSER) -> None:
    headers = {"Sec-Fetch-Site": "same-origin"}
    data = {"email": email, "password": PASSWORD, **form_token(client, "/admin/login", headers)}
    response = client.post("/admin/login", data=data, headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]

