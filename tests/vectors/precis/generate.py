#!/usr/bin/python3
"""Regenerate the PRECIS oracle tables from python3-precis-i18n (test data only).

Run from this directory: /usr/bin/python3 generate.py
Writes codepoints.txt (every code point alone) and strings.txt (hand-picked strings).
"""
import sys
import unicodedata

import precis_i18n

USER = precis_i18n.get_profile('UsernameCaseMapped')
OPAQUE = precis_i18n.get_profile('OpaqueString')


def status(profile, s):
    try:
        out = profile.enforce(s)
    except UnicodeError:
        return '-'
    if out == s:
        return '='
    return out.encode('utf-8').hex()


def codepoints(f):
    f.write('# precis_i18n %s, Unicode %s: first last UsernameCaseMapped OpaqueString\n'
            % (precis_i18n.__version__, unicodedata.unidata_version))
    f.write('# "-" refused, "=" accepted unchanged, else the hex UTF-8 of the result\n')
    run = None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        s = chr(cp)
        key = (status(USER, s), status(OPAQUE, s))
        mapped = key[0] not in '-=' or key[1] not in '-='
        if run and not mapped and run[2] == key and run[1] == cp - 1:
            run[1] = cp
            continue
        if run:
            f.write('%04X %04X %s %s\n' % (run[0], run[1], run[2][0], run[2][1]))
        run = [cp, cp, key] if not mapped else None
        if mapped:
            f.write('%04X %04X %s %s\n' % (cp, cp, key[0], key[1]))
    if run:
        f.write('%04X %04X %s %s\n' % (run[0], run[1], run[2][0], run[2][1]))


STRINGS = [
    # case mapping, final sigma (RFC 8265 toLowerCase keeps it), special casing
    'Juliet', 'ΣΑΣ', 'σας', 'ς', 'ΐ', 'İstanbul', 'ǅ', 'ß', 'ẞ', 'ﬁ',
    # width mapping (username only), compatibility characters
    'ＡＢＣ', 'ｱｲｳ', 'ﾊﾟ', '\u3000x', 'Ⅻ', '①', 'ℌ', 'Å', 'Å',
    # spaces
    'a b', 'a\u00a0b', 'a\u2003b', ' ', '\u00a0', 'a\tb', 'a\u200bb',
    # NFC
    'e\u0301', '\u0301', 'a\u0308\u0301', 'ḱ\u0323', '\u1e9b\u0323',
    # contextual rules (RFC 5892 Appendix A)
    'l\u00b7l', 'a\u00b7l', '\u00b7l', 'l\u00b7',
    '\u0375\u03b1', '\u0375a', 'a\u0375',
    '\u05d0\u05f3', 'a\u05f3', '\u05f3',
    '\u30fb\u30a2', '\u30fba', '\u4e00\u30fb', '\u3042\u30fb',
    '\u0663\u0664', '\u06f3\u06f4', '\u0663\u06f4', '\u0628\u0663',
    '\u0915\u094d\u200d\u0937', '\u0915\u094d\u200c\u0937', 'a\u200db', '\u200d',
    '\u0628\u200c\u0628', '\u0628\u064b\u200c\u064b\u0628', 'a\u200cb', '\u0627\u200c\u0628',
    # bidi rule
    '\u05d0\u05d1', '\u05d0a', 'a\u05d0', '\u05d01', '1\u05d0', '\u05d0\u0663',
    '\u05d01\u0663', '\u0627\u0661', 'a\u0300', '\u05d0\u0591', '\u0628\u0628\u064b',
    'abc\u05d0', '\u05d0.\u05d1', '\u0661a',
    # disallowed, unassigned, noncharacters, private use, controls
    '\u0378', '\ufdd0', '\U0010FFFF', '\ue000', '\x00', '\x7f', 'a\x85', '\u0640',
    '\u1100', '\u302e', '\u00ad', '\u3007', '\u0f0b', '\u06fd',
    # symbols and punctuation: freeform only
    '\u2603', '\U0001F600', '\u00a7', '\u2014', '\u00bf', '\u20ac', 'pa$$w0rd',
    'correct horse battery staple', 'IχνΣς', '\u0130',
    # RFC 7622 / 8265 examples
    'juliet@example.com', 'foo bar', '\u265a', 'π', 'Σ', 'σ', 'ᾈ', 'ꝶ',
]


def strings(f):
    f.write('# precis_i18n %s, Unicode %s: input-hex UsernameCaseMapped OpaqueString\n'
            % (precis_i18n.__version__, unicodedata.unidata_version))
    f.write('# "-" refused, "=" accepted unchanged, else the hex UTF-8 of the result\n')
    for s in STRINGS:
        f.write('%s %s %s\n' % (s.encode('utf-8').hex(), status(USER, s), status(OPAQUE, s)))


def main():
    with open('codepoints.txt', 'w', encoding='ascii') as f:
        codepoints(f)
    with open('strings.txt', 'w', encoding='ascii') as f:
        strings(f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
