"""Editing snmpsim ``.snmprec`` data (``OID|TAG|VALUE`` lines) in memory: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Recording:
    lines: list[str]
    index: dict[str, int]

    @classmethod
    def parse(cls, text: str) -> Recording:
        lines = text.splitlines()
        index = {line.split("|", 1)[0]: i for i, line in enumerate(lines) if "|" in line}
        return cls(lines, index)

    def dumps(self) -> str:
        return "\n".join(self.lines) + "\n"

    def get(self, oid: str) -> str | None:
        """The value as text (hex-tagged values decoded), or None if not recorded."""
        if oid not in self.index:
            return None
        _, tag, value = self.lines[self.index[oid]].split("|", 2)
        return bytes.fromhex(value).decode("latin-1") if tag.endswith("x") else value

    def tag(self, oid: str) -> str:
        return self.lines[self.index[oid]].split("|", 2)[1]

    def set(self, oid: str, value: int | str) -> None:
        """Replace a recorded value, keeping its type tag (and hex form for ``4x`` tags)."""
        if oid not in self.index:
            raise KeyError(f"{oid} is not in this recording")
        tag = self.tag(oid)
        text = str(value).encode("latin-1").hex() if tag.endswith("x") else str(value)
        self.lines[self.index[oid]] = f"{oid}|{tag}|{text}"

    def add(self, oid: str, delta: int, modulus: int | None = None) -> int:
        current = int(self.get(oid) or 0) + delta
        if modulus:
            current %= modulus
        self.set(oid, current)
        return current
