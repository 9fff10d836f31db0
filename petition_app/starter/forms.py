"""Forms of "Start your campaign": the proposal, the dashboard-link request and the starter's dated updates."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, ValidationError

from petition_app.i18n import LANGUAGE_NAMES
from petition_app.security import PublicForm
from petition_app.validators import NoControlCharacters, VisibleName, clean_text

GOAL_MIN, GOAL_MAX, GOAL_DEFAULT = 1, 10_000_000, 1000
DEMANDS_MAX, DEMAND_LENGTH = 20, 500
UPDATE_MAX = 5000

# "https://www.example.org" is one link: the alternation takes the scheme and the "www." together.
_LINK = re.compile(r"https?://(?:www\.)?|www\.", re.IGNORECASE)
_TOO_LONG = _l("Please keep this under %(max)d characters.")


def count_links(text: str | None) -> int:
    """How many web addresses a text holds (http://, https:// and www. occurrences)."""
    return len(_LINK.findall(text or ""))


def clean_multiline(value: str | None) -> str | None:
    """clean_text for textareas, with browsers' CRLF line ends made LF (so lengths are what people see)."""
    value = clean_text(value)
    return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class LinkLimit:
    """At most STARTER_MAX_LINKS web addresses: spam proposals are mostly links."""

    def __call__(self, form, field) -> None:
        limit = current_app.config["STARTER_MAX_LINKS"]
        found = count_links(field.data)
        if found > limit:
            raise ValidationError(_l("Please use at most %(max)d links (this text has %(num)d).", max=limit, num=found))


class MaxLength:
    """Length(max=...) read from the configuration at validation time."""

    def __init__(self, config_key: str):
        self.config_key = config_key

    def __call__(self, form, field) -> None:
        Length(max=current_app.config[self.config_key], message=_TOO_LONG)(form, field)


class StartForm(PublicForm):
    public_name = StringField(
        _l("Name of your group, or your own name"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please tell us who is starting this campaign.")),
                    Length(max=200, message=_TOO_LONG), NoControlCharacters(), VisibleName()],
        render_kw={"maxlength": 200, "autocomplete": "organization"},
    )
    email = EmailField(
        _l("Your email address"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=_TOO_LONG), NoControlCharacters(),
                    Email(message=_l("This does not look like an email address. Please check it."),
                          granular_message=False)],
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )
    title = StringField(
        _l("Title of the petition"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please give your petition a title.")), Length(max=300, message=_TOO_LONG),
                    NoControlCharacters()],
        render_kw={"maxlength": 300},
    )
    lead = TextAreaField(
        _l("Summary"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please sum up your campaign in a few sentences.")),
                    Length(max=1000, message=_TOO_LONG), NoControlCharacters(allow_newlines=True)],
        render_kw={"maxlength": 1000, "rows": 3},
    )
    body = TextAreaField(
        _l("Why it matters"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please explain your campaign.")), MaxLength("STARTER_MAX_BODY"),
                    NoControlCharacters(allow_newlines=True), LinkLimit()],
        render_kw={"rows": 10},
    )
    targets = TextAreaField(
        _l("Who can make this change?"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please say who the petition is addressed to.")),
                    Length(max=1000, message=_TOO_LONG), NoControlCharacters(allow_newlines=True)],
        render_kw={"maxlength": 1000, "rows": 2},
    )
    demands = TextAreaField(
        _l("What do you ask of them?"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please write at least one demand.")),
                    Length(max=DEMANDS_MAX * (DEMAND_LENGTH + 1), message=_TOO_LONG),
                    NoControlCharacters(allow_newlines=True)],
        render_kw={"rows": 4},
    )
    goal = IntegerField(
        _l("Signature goal"),
        default=GOAL_DEFAULT,
        validators=[InputRequired(_l("Please enter a number of signatures.")),
                    NumberRange(min=GOAL_MIN, max=GOAL_MAX,
                                message=_l("Please choose a goal between %(min)s and %(max)s."))],
        render_kw={"min": GOAL_MIN, "max": GOAL_MAX, "inputmode": "numeric"},
    )
    language = SelectField(_l("Language of the petition"),
                           validators=[DataRequired(_l("Please choose a language."))])
    agree_terms = BooleanField(
        _l("I agree to the terms of use"),
        validators=[DataRequired(_l("Please read and accept the terms of use."))],
    )
    # Honeypot: hidden from people and screen readers; bots that fill it are answered as usual and ignored.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = current_app.config["LANGUAGES"]
        self.language.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in languages]
        if self.language.data is None:
            locale = str(get_locale())
            self.language.data = locale if locale in languages else languages[0]
        self.body.render_kw = {**self.body.render_kw, "maxlength": current_app.config["STARTER_MAX_BODY"]}

    def validate_demands(self, field) -> None:
        lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        if len(lines) > DEMANDS_MAX:
            raise ValidationError(_l("Please list at most %(max)d demands, one a line.", max=DEMANDS_MAX))
        if any(len(line) > DEMAND_LENGTH for line in lines):
            raise ValidationError(_l("Please keep each demand under %(max)d characters.", max=DEMAND_LENGTH))

    @property
    def is_bot(self) -> bool:
        return bool(self.website.data)


class LinkRequestForm(PublicForm):
    email = EmailField(
        _l("The email address you started the campaign with"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=_TOO_LONG), NoControlCharacters(),
                    Email(message=_l("This does not look like an email address. Please check it."),
                          granular_message=False)],
        render_kw={"maxlength": 254, "autocomplete": "email", "inputmode": "email"},
    )
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})


class StarterUpdateForm(PublicForm):
    title = StringField(
        _l("Title (optional)"),
        filters=[clean_text],
        validators=[Length(max=300, message=_TOO_LONG), NoControlCharacters()],
        render_kw={"maxlength": 300},
    )
    body = TextAreaField(
        _l("What is new?"),
        filters=[clean_multiline],
        validators=[DataRequired(_l("Please write your update.")), Length(max=UPDATE_MAX, message=_TOO_LONG),
                    NoControlCharacters(allow_newlines=True), LinkLimit()],
        render_kw={"maxlength": UPDATE_MAX, "rows": 6},
    )
