"""Building blocks shared by the pages, one module per kind: forms, cards, badges, callouts, the
editable row list, dialogs, secrets shown once, the account notices and the panel's layout.
Re-exported here, so pages import them from `webapp.components`."""

from .badges import SPINNER, BadgeLook, badge, color_match, state_badge
from .brand import BRAND, brand, brand_mark
from .buttons import filter_chip, icon_action
from .callouts import callout, error_callout, message_callout, notice_callout
from .cards import card_heading, card_title, empty_state, group_card, icon_tile, section_card, skeleton_rows
from .dialogs import cancel_button, confirm_dialog, dialog_buttons
from .forms import (
    NativeForm,
    field,
    field_label,
    hint,
    labeled,
    named_select,
    native_form,
    new_password_field,
    options_select,
    readonly_field,
    two_columns,
)
from .layout import (
    SECTIONS,
    Section,
    for_role,
    loading_screen,
    logout_button,
    mobile_header,
    nav_item,
    page_header,
    shell,
    sidebar,
    sidebar_column,
    user_card,
    workspace_badge,
)
from .notices import account_notices, email_confirmation_banner, takeover_notice
from .rows import remove_row_button, row_card, row_input, row_list, row_switch
from .secrets import copy_secret, forget_secret, one_time_secret, reveal_box

__all__ = [
    "BRAND",
    "SECTIONS",
    "SPINNER",
    "BadgeLook",
    "NativeForm",
    "Section",
    "account_notices",
    "badge",
    "brand",
    "brand_mark",
    "callout",
    "cancel_button",
    "card_heading",
    "card_title",
    "color_match",
    "confirm_dialog",
    "copy_secret",
    "dialog_buttons",
    "email_confirmation_banner",
    "empty_state",
    "error_callout",
    "field",
    "field_label",
    "filter_chip",
    "for_role",
    "forget_secret",
    "group_card",
    "hint",
    "icon_action",
    "icon_tile",
    "labeled",
    "loading_screen",
    "logout_button",
    "message_callout",
    "mobile_header",
    "named_select",
    "native_form",
    "nav_item",
    "new_password_field",
    "notice_callout",
    "one_time_secret",
    "options_select",
    "page_header",
    "readonly_field",
    "remove_row_button",
    "reveal_box",
    "row_card",
    "row_input",
    "row_list",
    "row_switch",
    "section_card",
    "shell",
    "sidebar",
    "sidebar_column",
    "skeleton_rows",
    "state_badge",
    "takeover_notice",
    "two_columns",
    "user_card",
    "workspace_badge",
]
