"""Files on a ticket in the browser: picked several at once, dropped, refused when too large."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.steps import report_ticket, signed_in_page


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_two_files_picked_at_once_are_listed_with_a_thumbnail(browser, live_server):
    page = signed_in_page(browser, live_server, "alice")
    url = report_ticket(page, live_server, "Stripes on the screen")
    section = page.locator("#attachments")
    section.get_by_label("Files").set_input_files(
        [
            {"name": "stripes.png", "mimeType": "image/png", "buffer": png()},
            {
                "name": "<i onmouseover=alert(1)>notes.txt",
                "mimeType": "text/plain",
                "buffer": b"since Monday",
            },
        ]
    )
    section.get_by_role("button", name="Upload").click()
    files = section.locator(".attachment")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("stripes.png")
    expect(files.nth(1)).to_contain_text("<i onmouseover=alert(1)>notes.txt")  # as text, not markup
    thumbnail = files.nth(0).locator("img.attachment-thumb")
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    expect(files.nth(1).locator("img")).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text(
        "attached stripes.png, <i onmouseover=alert(1)>notes.txt"
    )
    assert page.url == url  # swapped in place

    with page.expect_download() as download:
        files.nth(1).get_by_role("link", name="<i onmouseover=alert(1)>notes.txt").click()
    assert download.value.suggested_filename.endswith("notes.txt")


def test_a_dropped_file_is_sent_and_a_too_large_one_is_not(browser, live_server):
    page = signed_in_page(browser, live_server, "alice")
    report_ticket(page, live_server, "Scanner drops pages")
    drop = """([name, size]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(size)], name, {type: "application/pdf"}));
        const form = document.getElementById("attach-form");
        form.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
    }"""
    page.evaluate(drop, ["big.pdf", 11 * 1024 * 1024])
    expect(page.locator("#attach-form [role=alert]")).to_have_text(
        "Too large (a file may have 10 MB): big.pdf"
    )
    expect(page.locator("#attachments")).to_contain_text("No files yet.")

    page.evaluate(drop, ["scan.pdf", 2 * 1024 * 1024])
    expect(page.locator("#attachments .attachment")).to_have_count(1)
    expect(page.locator("#attachments .attachment")).to_contain_text("scan.pdf")
    expect(page.locator("#attachments .attachment")).to_contain_text("2.0 MB")


def test_a_page_behind_gets_the_files_others_attached_with_its_next_change(browser, live_server):
    owner = signed_in_page(browser, live_server, "alice")
    url = report_ticket(owner, live_server, "Receipt printer cuts too early")
    staff = signed_in_page(browser, live_server, "staff")
    staff.goto(url)
    staff.wait_for_load_state("load")
    expect(staff.locator("#attachments .attachment")).to_have_count(0)

    section = owner.locator("#attachments")  # meanwhile, on the owner's page
    section.get_by_label("Files").set_input_files(
        {"name": "cut.png", "mimeType": "image/png", "buffer": png()}
    )
    section.get_by_role("button", name="Upload").click()
    expect(section.locator(".attachment")).to_have_count(1)

    staff.locator("#ticket-header").get_by_role("button", name="Take", exact=True).click()
    expect(staff.locator("#ticket-assignee")).to_have_text("Sam Staff")
    expect(staff.locator("#attachments .attachment")).to_have_count(1)
    expect(staff.locator("#attachments")).to_contain_text("cut.png")
    expect(staff.locator("#timeline")).to_contain_text("attached cut.png")
    assert staff.url == url  # swapped in place
