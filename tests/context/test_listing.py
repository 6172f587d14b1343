"""A folder the question names goes into the prompt as its entries (context.listing)."""

from __future__ import annotations

from coda_tui.context.attachments import render_attachments
from coda_tui.context.listing import MAX_ENTRIES, listing, named_folder
from coda_tui.context.project import Project


def make(tmp_path):
    root = tmp_path / "share"
    (root / "common-licenses").mkdir(parents=True)
    for name in ("GPL-3", "Apache-2.0", "BSD"):
        (root / "common-licenses" / name).write_text("licence text\n")
    (root / "doc" / "pkg").mkdir(parents=True)
    (root / "doc" / "pkg" / "README").write_text("hi\n")
    (root / "keys").mkdir()
    (root / "keys" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (root / "keys" / "notes.txt").write_text("n\n")
    return Project(root)


def test_a_folder_is_named_by_a_path_or_beside_the_word_folder(tmp_path):
    project = make(tmp_path)
    assert named_folder("what is in the common-licenses folder?", project) == "common-licenses"
    assert named_folder("list the directory pkg please", project) == "doc/pkg"  # a level down
    assert named_folder("what does doc/pkg hold?", project) == "doc/pkg"  # a path needs no word
    assert named_folder(f"what is in {project.root}/doc/pkg?", project) == "doc/pkg"  # absolute, inside
    assert named_folder("what is in the common-licenses?", project) is None  # no slash, no "folder"
    assert named_folder("what is in the nowhere folder?", project) is None
    assert named_folder("what is in /etc/ssh?", project) is None  # outside the project
    assert named_folder("say hi", project) is None


def test_the_listing_holds_what_the_walk_admits_folders_first(tmp_path):
    project = make(tmp_path)
    item = listing(project, "common-licenses", 200)
    assert item.source == "listing" and item.text.splitlines() == ["Apache-2.0", "BSD", "GPL-3"]
    assert listing(project, ".", 200) is not None
    top = listing(project, ".", 200).text.splitlines()
    assert top[:3] == ["common-licenses/", "doc/", "keys/"]
    keys = listing(project, "keys", 200).text
    assert "id_rsa" not in keys and "notes.txt" in keys  # a protected file is not even named
    rendered = render_attachments([item])
    assert rendered.startswith("The folder common-licenses/, what it holds:\n```\nApache-2.0\n")


def test_a_big_folder_is_cut_to_fit(tmp_path):
    project = make(tmp_path)
    for i in range(500):
        (project.root / "common-licenses" / f"LICENSE-{i:03}").write_text("x\n")
    item = listing(project, "common-licenses", 1000)
    lines = item.text.splitlines()
    assert len(lines) == MAX_ENTRIES + 1 and lines[-1] == f"… and {503 - MAX_ENTRIES} more"
    small = listing(project, "common-licenses", 40)
    assert small.tokens <= 40 and small.text.splitlines()[-1].startswith("… and ")
    assert listing(project, "common-licenses", 1) is None
