"""Forms for editing campaigns, their dated updates and the site pages."""

from __future__ import annotations

import unicodedata

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from petition_app.timezones import local_time_exists, site_zone
from petition_app.validators import NoControlCharacters, clean_text

TEXT_MAX = 100_000  # characters in any long text; far beyond any real campaign, well below the request size limit
GOAL_MAX = 100_000_000
RELATED_MAX = 20
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def clean_multiline(value: str | None) -> str | None:
    """Normalise to NFC, use \\n line ends (browsers send \\r\\n) and trim; a WTForms filter."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _line(max_length: int, required: bool = False) -> list:
    return [DataRequired() if required else Optional(), Length(max=max_length), NoControlCharacters()]


def _text(required: bool = False) -> list:
    return [DataRequired() if required else Optional(), Length(max=TEXT_MAX),
            NoControlCharacters(allow_newlines=True)]


class MarkdownField(TextAreaField):
    """A Markdown textarea that asks the server for a sanitized preview while typing (htmx)."""

    def __call__(self, **kwargs):
        kwargs.setdefault("data-hx-post", url_for("admin.preview"))
        kwargs.setdefault("data-hx-trigger", "keyup changed delay:500ms")
        kwargs.setdefault("data-hx-target", f"#{self.id}-preview")
        kwargs.setdefault("data-hx-swap", "innerHTML")
        kwargs.setdefault("data-hx-params", self.name)  # only this text, not the whole form, on every keystroke
        if "rows" not in (self.render_kw or {}):
            kwargs.setdefault("rows", 10)
        return super().__call__(**kwargs)


class ExistingLocalTime:
    """Refuse a wall-clock time the site's zone skips when the clocks go forward (it would silently move)."""

    def __call__(self, form, field):
        if field.data is not None and not local_time_exists(field.data):
            raise ValidationError(_l("This time does not exist in the site's time zone (the clocks go forward "
                                     "then). Choose another time."))


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), filters=[clean_text], validators=_line(300, required=True))
    lead = TextAreaField(_l("Lead paragraph"), filters=[clean_multiline], validators=_text(),
                         render_kw={"rows": 3})
    body = MarkdownField(_l("Body"), filters=[clean_multiline], validators=_text())
    quote = TextAreaField(_l("Quote"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 3})
    quote_attribution = StringField(_l("Quote attribution"), filters=[clean_text], validators=_line(300))

    petition_heading = StringField(_l("Petition heading"), filters=[clean_text], validators=_line(300))
    targets = TextAreaField(_l("Addressed to"), filters=[clean_multiline], validators=_text(),
                            render_kw={"rows": 2})
    petition_text = MarkdownField(_l("Petition text"), filters=[clean_multiline], validators=_text())
    demands = TextAreaField(_l("Demands"), filters=[clean_multiline], validators=_text(), render_kw={"rows": 5})
    petition_closing = MarkdownField(_l("Closing text"), filters=[clean_multiline], validators=_text())

    goal = IntegerField(_l("Goal"), default=1000, validators=[
        InputRequired(), NumberRange(min=1, max=GOAL_MAX, message=_l("Enter a whole number from 1 to 100,000,000."))],
        render_kw={"inputmode": "numeric"})
    goal_fixed = BooleanField(_l("Keep this goal when it is reached"))
    offline_count = IntegerField(_l("Signatures collected offline"), default=0, validators=[
        Optional(), NumberRange(min=0, max=GOAL_MAX, message=_l("Enter a whole number from 0 to 100,000,000."))],
        render_kw={"inputmode": "numeric"})
    # On by default: counting unconfirmed signatures tells anyone whether an address has signed.
    count_confirmed_only = BooleanField(_l("Count only confirmed signatures (recommended)"), default=True)
    discreet_mail = BooleanField(_l("Discreet mail"))
    # A date and time of day in the site's time zone (TIMEZONE); stored as UTC.
    deadline = DateTimeLocalField(
        _l("Deadline"), validators=[Optional(), ExistingLocalTime()], tz=site_zone,
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        invalid_value_message=_l("Enter a date and time, for example 2025-12-31 18:00."))
    delivery_note = TextAreaField(_l("Delivery note"), filters=[clean_multiline], validators=_text(),
                                  render_kw={"rows": 3})
    started_by = StringField(_l("Started by"), filters=[clean_text], validators=_line(200))

    slug = StringField(_l("Address"), filters=[clean_text, lambda v: v.lower() if v else v], validators=[
        DataRequired(), Length(max=120),
        Regexp(SLUG_PATTERN, message=_l("Lower-case letters, digits and hyphens only."))])
    language = SelectField(_l("Language of the campaign"))
    organisation = SelectField(_l("Run by"), coerce=int)
    partners = CheckboxListField(_l("Partner organisations"), coerce=int)
    related = TextAreaField(_l("Suggested campaigns"), filters=[clean_multiline], validators=[
        Optional(), Length(max=RELATED_MAX * 200), NoControlCharacters(allow_newlines=True)],
        render_kw={"rows": 4, "autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"})


class UpdateForm(FlaskForm):
    published_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter a date."))],
                             invalid_value_message=_l("Enter a date, for example 2025-06-30."))
    title = StringField(_l("Title (optional)"), filters=[clean_text], validators=_line(300))
    body = MarkdownField(_l("Text"), filters=[clean_multiline], validators=_text(required=True))


class SitePageForm(FlaskForm):
    title = StringField(_l("Title"), filters=[clean_text], validators=_line(200, required=True))
    body = MarkdownField(_l("Text"), filters=[clean_multiline], validators=_text(required=True),
                         render_kw={"rows": 20})
