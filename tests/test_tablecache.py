"""The matcher's tables kept between crawl processes: read back, rebuilt when anything is wrong."""

from __future__ import annotations

from watcher.matching import tablecache


def test_a_table_is_built_once_then_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPUS_WATCHER_CACHE", str(tmp_path / "c"))
    builds = []
    build = lambda: builds.append(1) or {"da": ["大", "达"]}  # noqa: E731
    assert tablecache.cached("t", "k1", build) == {"da": ["大", "达"]}
    assert tablecache.cached("t", "k1", build) == {"da": ["大", "达"]}
    assert len(builds) == 1
    tablecache.cached("t", "k2", build)  # another key (a new library version, another logo): built again
    assert len(builds) == 2
    assert not list((tmp_path / "c").glob("*.tmp"))


def test_a_cut_or_unwritable_cache_only_means_building_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPUS_WATCHER_CACHE", str(tmp_path / "c"))
    tablecache.cached("t", "k", lambda: [1, 2, 3])
    (entry,) = (tmp_path / "c").glob("t-*.json")
    entry.write_text('[1, 2', encoding="utf-8")  # a file cut short
    assert tablecache.cached("t", "k", lambda: [1, 2, 3]) == [1, 2, 3]
    assert entry.read_text(encoding="utf-8") == "[1,2,3]"  # and put right
    blocked = tmp_path / "a-file"  # where the directory should be (also refused to root, unlike a mode)
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("CAMPUS_WATCHER_CACHE", str(blocked / "sub"))
    assert tablecache.cached("t", "k", lambda: [4]) == [4]  # nowhere to write: built, answered, not kept
    assert tablecache.cached("t", "k", lambda: [5]) == [5]


def test_the_matcher_answers_the_same_from_cached_tables(cfg, tmp_path, monkeypatch):
    from watcher.matching import lexicon, prefilter
    from watcher.matching.logo import LogoMatcher

    logo = cfg.resolve_path(cfg.school.logos[0])
    monkeypatch.setenv("CAMPUS_WATCHER_CACHE", str(tmp_path / "c"))
    fresh = LogoMatcher([logo]).variants
    assert LogoMatcher([logo]).variants == fresh  # the second from the cache
    assert [(n, str(h.phash), str(h.dhash)) for n, h in fresh] == \
        [(n, str(h.phash), str(h.dhash)) for n, h in LogoMatcher([logo]).variants]
    lexicon._lexicon.cache_clear()
    prefilter.syllable_classes.cache_clear()
    first = (lexicon._lexicon(), prefilter.syllable_classes(frozenset({"bei", "li"})))
    lexicon._lexicon.cache_clear()
    prefilter.syllable_classes.cache_clear()
    assert (lexicon._lexicon(), prefilter.syllable_classes(frozenset({"bei", "li"}))) == first
    assert "北" in first[1]["bei"] and "学生" in first[0][0]
