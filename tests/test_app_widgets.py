"""Widget values survive a page switch (ui.widgets), on every page that keeps them."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("page,widget,value", [
    ("app_pages/sweep.py", "sweep_units", "12, 24"),
    ("app_pages/study.py", "study_lengths", "3, 5"),
])
def test_values_come_back_after_another_page(app_test, page, widget, value):
    at = app_test()
    at.run()
    at.switch_page(page).run()
    at.text_input(key=widget).input(value).run()
    at.switch_page("app_pages/home.py").run()
    assert widget not in at.session_state  # Streamlit dropped the widget's value
    at.switch_page(page).run()
    assert not at.exception
    assert at.text_input(key=widget).value == value
