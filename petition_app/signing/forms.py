from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from petition_app.i18n import country_choices, country_codes
from petition_app.validators import NoControlCharacters, PersonName, Phone, clean_text


class SignForm(FlaskForm):
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
        self.country.choices = [("", _l("Choose your country"))] + list(country_choices(locale))

    def validate_country(self, field) -> None:
        if field.data and field.data not in country_codes():
            raise ValidationError(_l("Please choose your country from the list."))

    def validate_consent_sms(self, field) -> None:
        if field.data and not self.phone.data:
            raise ValidationError(_l("Add a mobile number to receive text messages, or untick this box."))

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)
