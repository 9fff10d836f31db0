from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, ValidationError
from wtforms.widgets import html_params

from petition_app.i18n import country_choices, country_codes
from petition_app.security import PublicForm
from petition_app.validators import NoControlCharacters, PersonName, Phone, clean_text


@lru_cache(maxsize=64)
def _country_options(locale: str, selected: str, placeholder: str) -> Markup:
    options = [f'<option value=""{" selected" if not selected else ""}>{escape(placeholder)}</option>']
    options += [f'<option value="{code}"{" selected" if code == selected else ""}>{escape(name)}</option>'
                for code, name in country_choices(locale)]
    # Safe: codes are ISO letters, every name and the placeholder are escaped above.
    return Markup("".join(options))  # noqa: S704  # nosec B704


class CountrySelect:
    """The country <select>, its ~250 localised options rendered once per language rather than per request."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        if field.flags.required:
            kwargs.setdefault("required", True)
        selected = field.data if field.data in country_codes() else ""
        options = _country_options(field.locale, selected, _("Choose your country"))
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704  # nosec B704


class SignForm(PublicForm):
    first_name = StringField(
        _l("First name"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please enter your first name.")),
                    Length(max=100, message=_l("Please keep this under %(max)d characters.")), PersonName()],
        render_kw={"autocomplete": "given-name", "maxlength": 100},
    )
    last_name = StringField(
        _l("Last name"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please enter your last name.")),
                    Length(max=100, message=_l("Please keep this under %(max)d characters.")), PersonName()],
        render_kw={"autocomplete": "family-name", "maxlength": 100},
    )
    email = EmailField(
        _l("Email"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=_l("Please keep this under %(max)d characters.")),
                    NoControlCharacters(),
                    Email(message=_l("This does not look like an email address. Please check it."),
                          granular_message=False)],
        render_kw={"autocomplete": "email", "maxlength": 254, "inputmode": "email"},
    )
    country = SelectField(
        _l("Country"),
        validate_choice=False,
        widget=CountrySelect(),
        validators=[DataRequired(_l("Please choose your country."))],
        render_kw={"autocomplete": "country"},
    )
    phone = TelField(
        _l("Mobile phone (optional)"),
        filters=[clean_text],
        validators=[Length(max=32, message=_l("Please keep this under %(max)d characters.")), Phone()],
        render_kw={"autocomplete": "tel", "maxlength": 32, "inputmode": "tel"},
    )
    consent_sms = BooleanField(_l("Yes, send me text messages about this campaign."))
    consent_email = BooleanField(_l("Yes, email me about this campaign and related actions."))
    consent_share = BooleanField(_l("Share my first name, last name and country with the petition starter so they can deliver my signature."))
    # Honeypot: hidden from people and screen readers; bots that fill it are thanked and ignored.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def __init__(self, *args, locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.locale = locale

    def validate_country(self, field) -> None:
        if field.data and field.data not in country_codes():
            raise ValidationError(_l("Please choose your country from the list."))

    def validate_consent_sms(self, field) -> None:
        if field.data and not self.phone.data:
            raise ValidationError(_l("Add a mobile number to receive text messages, or untick this box."))

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)
