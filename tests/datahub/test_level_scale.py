"""The level scale: the GB/T 43697 default, another scale from a file the setting names, and a broken file
refused naming the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from samples import person_entry

from cityos import datahub
from cityos.datahub import DataItem, InvalidEntry
from cityos.datahub.errors import InvalidLevelScale
from cityos.datahub.levels import load_scale
from cityos.runtime import Runtime


def test_the_default_scale_is_gb_t_43697() -> None:
    scale = load_scale()
    assert [lv.name for lv in scale.levels] == ["general-1", "general-2", "general-3", "general-4", "important", "core"]
    assert scale.get("important") is not None and scale.get("important").zh == "重要数据"  # type: ignore[union-attr]
    assert scale.highest(["general-2", "core", "general-4"]).name == "core"  # type: ignore[union-attr]
    assert scale.levels[0].en == "General, level 1"


def test_a_scale_the_setting_names_is_the_one_entries_are_checked_against(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text("- {name: public, zh: 公开, en: Public}\n- {name: internal, zh: 内部, en: Internal}\n"
                    "- {name: sensitive, zh: 敏感, en: Sensitive}\n", encoding="utf-8")  # fmt: skip
    rt.settings = rt.settings.model_copy(update={"datahub_levels": path})
    assert [lv.name for lv in datahub.level_scale(rt).levels] == ["public", "internal", "sensitive"]
    items = (DataItem("idCard", "身份证号", "id-card", "sensitive"), DataItem("name", "姓名", "name", "internal"))
    datahub.register_entry(rt, "default", person_entry(items=items), by="a")
    assert datahub.view_entry(rt, "default", "HP-01-01-0001").level.name == "sensitive"  # type: ignore[union-attr]
    with pytest.raises(InvalidEntry, match="public, internal, sensitive"):
        datahub.register_entry(rt, "default", person_entry(code="HP-01-01-0002"), by="a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {name: a, zh: 甲, en: General, level 1}\n", "levels[0] has unknown field(s) 'level 1'"),
        ("- {name: a, zh: 甲}\n", "levels[0] field 'en'"),
        ("- {name: a, zh: 甲, en: A}\n- {name: a, zh: 乙, en: B}\n", "levels[1] repeats the name 'a'"),
        ("[]\n", "non-empty list"),
        ("- [\n", "not valid YAML"),
    ],
)
def test_a_broken_scale_names_the_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "levels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidLevelScale) as caught:
        load_scale(path)
    assert str(path) in caught.value.detail and message in caught.value.detail
