"""The ⋮ menu of an instance behaves as a menu button: Enter opens it, the
arrow keys move between its links, Escape closes it and gives the focus back
to the button, a click outside closes it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_instance_journey import _log_in
from tests.factories import InstanceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_menu_opens_moves_and_closes_from_the_keyboard_and_outside(
    page, screenshot, owner
):
    instance = InstanceFactory(owner=owner, name="Loja Centro")
    _log_in(page, owner)
    page.goto(f"/instancias/{instance.pk}/")
    menu = page.locator("details.menu")
    button = page.get_by_label("Mais ações")

    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Editar")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("link", name="Lista de exclusão")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last
    expect(menu.locator("ul a").last).to_be_focused()

    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    screenshot("menu-after-escape")

    button.click()
    expect(menu).to_have_attribute("open", "")
    page.get_by_role("heading", name="Credenciais da API").click()  # outside
    expect(menu).not_to_have_attribute("open", "")
