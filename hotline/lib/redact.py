"""Finding and hiding personal data in a ticket's text before it is published (framework-free).

办件公开 publishes a closed ticket's content and reply. What identifies a citizen is hidden
first: mobile and fixed-line numbers, ID-card numbers (身份证号), bank cards, plate numbers,
emails, and the caller's own name with its "surname + 先生/女士" forms. The reviewer hides the
rest by hand (a neighbour's name, a shop's sign); ``find`` runs again on the reviewer's text, so
an edit cannot bring a number back.

Numbers are told apart by their shape and their check digits, not by their length alone: an
18-digit run is an ID card only if its birth date is a date and its ISO 7064 check digit is
right, a 16–19-digit run is a bank card only if its Luhn digit is right, a fixed line needs its
0-led area code (or a word such as 电话 just before it). So order numbers, amounts, dates and
room numbers stay, which a rule of "hide every long number" would destroy.

Full-width digits and letters (１３８…, Ａ) are read as their ASCII twins; the mapping is one
character to one, so positions in the text stay the positions of the findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MOBILE, LANDLINE, ID_CARD, BANK_CARD, PLATE, EMAIL, NAME = (
    "mobile",
    "landline",
    "id_card",
    "bank_card",
    "plate",
    "email",
    "name",
)

# What a hidden piece reads as in the published text (the published text is Chinese, whatever the
# reviewer's screen language).
REPLACEMENTS = {
    MOBILE: "[电话]",
    LANDLINE: "[电话]",
    ID_CARD: "[身份证号]",
    BANK_CARD: "[银行卡号]",
    PLATE: "[车牌号]",
    EMAIL: "[邮箱]",
    NAME: "某某",
}

# Full-width ASCII (U+FF01–FF5E) and the ideographic space, one to one.
_WIDE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _ascii(text: str) -> str:
    return text.translate(_WIDE)


# --- phones -----------------------------------------------------------------------------------

_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
# 0 + 2–3 digits of area code (010, 0731), optional brackets and one separator, 7–8 local digits.
_LANDLINE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s-]?[2-9]\d{2,3}[\s-]?\d{4}(?:[-转]\d{1,5})?(?!\d)"
)
# A local number without its area code is hidden only when a word says it is a phone number:
# alone, 8 digits are as often a date (20261129) or an amount.
_LOCAL = re.compile(
    r"(?:电话|座机|固话|号码|联系方式|致电|拨打)(?:号码)?(?:是|为|：|:)?\s*([2-9]\d{2,3}[\s-]?\d{4})(?!\d)"
)

# --- ID cards and bank cards ------------------------------------------------------------------

# A run of digits, single spaces or dashes between groups allowed (6222 0202 0000 1234 567).
_DIGITS = re.compile(r"(?<![\dA-Za-z])\d+(?:[ -]\d+)*[Xx]?(?![\dA-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Words before a long number that make it something else than a bank card (a Luhn digit is right
# by chance for one number in ten).
_NOT_A_CARD = re.compile(r"(?:订单|单号|编号|流水|工单|运单|快递|合同|发票|条码|批次|序列)[号码]?[：:是为\s]*$")


def id_checksum_ok(digits: str) -> bool:
    """ISO 7064 MOD 11-2 over an 18-character ID number (the last may be X)."""
    if len(digits) != 18 or not digits[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17].upper()


def _birth_ok(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2099


def is_id_card(digits: str) -> bool:
    """An 18-digit number with a valid birth date and check digit, or a 15-digit one (1984–1999
    cards, no check digit) with a valid birth date; the first digit is a province (1–8)."""
    if digits[:1] not in "12345678" or not digits:
        return False
    if len(digits) == 18:
        return _birth_ok(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])) and id_checksum_ok(digits)
    if len(digits) == 15 and digits.isdigit():
        return _birth_ok(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    return False


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def is_bank_card(digits: str) -> bool:
    """16–19 digits with a right Luhn digit (China UnionPay 62…, Visa 4…, Mastercard 5…, and more)."""
    return digits.isdigit() and 16 <= len(digits) <= 19 and digits[0] in "3456" and luhn_ok(digits)


# --- plates and emails ------------------------------------------------------------------------

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Province + issuing letter (no I or O), an optional dot, then 5 characters (6 for new-energy
# plates: D/F + 5 digits, or 5 digits + D/F), or 4 + 挂/学/警/港/澳.
_PLATE = re.compile(
    rf"[{_PROVINCES}][A-HJ-NP-Z][·•・.\s]?(?:[A-HJ-NP-Z0-9]{{5,6}}|[A-HJ-NP-Z0-9]{{4}}[挂学警港澳])(?![A-Za-z0-9])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)

# --- names ------------------------------------------------------------------------------------

COMPOUND_SURNAMES = [
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "轩辕",
    "令狐",
    "钟离",
    "闻人",
    "澹台",
    "端木",
    "南宫",
    "西门",
]
TITLES = ("先生", "女士", "小姐", "师傅", "阿姨", "大爷", "大妈", "老师")


def surname_of(name: str) -> str:
    name = name.strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


# What callers give as a "name" that is none: hiding these words everywhere would garble the text.
NOT_NAMES = frozenset({"市民", "群众", "匿名", "无", "未知", "不详", "来电人", "先生", "女士", "小姐"})


def _name_pattern(names: tuple[str, ...]) -> re.Pattern | None:
    alternatives = []
    for raw in names:
        name = (raw or "").strip()
        if not name or name in NOT_NAMES:
            continue
        if len(name) >= 2:
            alternatives.append(re.escape(name))
        surname = surname_of(name)
        if surname and not surname.isascii():
            alternatives.append(re.escape(surname) + "(?:" + "|".join(TITLES) + ")")
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)  # the full name before its surname form
    return re.compile("|".join(alternatives))


# --- the whole ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str
    text: str

    @property
    def replacement(self) -> str:
        if self.kind == NAME:
            for title in TITLES:
                if self.text.endswith(title):
                    return "某" + title
        return REPLACEMENTS[self.kind]


def find(text: str, names: tuple[str, ...] | list[str] = ()) -> list[Finding]:
    """The personal data in ``text``, in order, not overlapping (``names``: the caller's own)."""
    if not text:
        return []
    plain = _ascii(text)
    found: list[Finding] = []
    taken = [False] * len(text)

    def add(start: int, end: int, kind: str) -> None:
        if any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        found.append(Finding(start, end, kind, text[start:end]))

    for m in _EMAIL.finditer(plain):
        add(m.start(), m.end(), EMAIL)
    # Long digit runs first: an ID card or a bank card holds runs that look like phones.
    for m in _DIGITS.finditer(plain):
        # The whole run (a card written in groups), else each of its pieces (two numbers side by side).
        pieces = [(m.start(), m.group())]
        if re.search(r"[ -]", m.group()):
            pieces += [(m.start() + p.start(), p.group()) for p in re.finditer(r"\d+[Xx]?", m.group())]
        for start, piece in pieces:
            digits = re.sub(r"[ -]", "", piece)
            end = start + len(piece)
            if is_id_card(digits):
                add(start, end, ID_CARD)
                break
            if is_bank_card(digits) and not _NOT_A_CARD.search(plain[max(0, start - 8) : start]):
                add(start, end, BANK_CARD)
                break
    for m in _MOBILE.finditer(plain):
        add(m.start(), m.end(), MOBILE)
    for m in _LANDLINE.finditer(plain):
        add(m.start(), m.end(), LANDLINE)
    for m in _LOCAL.finditer(plain):
        add(m.start(1), m.end(1), LANDLINE)
    for m in _PLATE.finditer(plain):
        add(m.start(), m.end(), PLATE)
    pattern = _name_pattern(tuple(names))
    if pattern is not None:
        for m in pattern.finditer(text):
            add(m.start(), m.end(), NAME)
    found.sort(key=lambda f: f.start)
    return found


@dataclass(frozen=True)
class Redacted:
    text: str
    findings: list[Finding]

    def segments(self, original: str) -> list[tuple[str, Finding | None]]:
        """``original`` cut into plain pieces and findings, for a page that highlights them."""
        out: list[tuple[str, Finding | None]] = []
        at = 0
        for f in self.findings:
            if f.start > at:
                out.append((original[at : f.start], None))
            out.append((original[f.start : f.end], f))
            at = f.end
        if at < len(original):
            out.append((original[at:], None))
        return out


def redact(text: str, names: tuple[str, ...] | list[str] = ()) -> Redacted:
    """``text`` with every finding replaced by its placeholder ("[电话]", "某先生")."""
    findings = find(text, names)
    pieces, at = [], 0
    for f in findings:
        pieces += [text[at : f.start], f.replacement]
        at = f.end
    pieces.append(text[at:])
    return Redacted("".join(pieces), findings)
