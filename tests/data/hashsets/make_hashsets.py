"""Write the small hash-set fixtures of this folder (run from the repository root).

    python tests/data/hashsets/make_hashsets.py

Every value is made up here (no record is copied from a real set); each file exercises
the quirks docs/formats.md lists for its format. README.md says what each file is.
"""

from __future__ import annotations

import codecs
import json
import sqlite3
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
MD5 = ["00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100",
       "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"]  # fmt: skip
SHA1 = ["0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef",
        "fedcba9876543210fedcba9876543210fedcba98"]  # fmt: skip
SHA256 = ["ab" * 32, "cd" * 32, "ef" * 32]


def vics() -> None:
    media = [
        {"MediaID": 1, "Category": 1, "MD5": MD5[0].upper(), "SHA1": SHA1[0].upper(),
         "MediaSize": "10240", "VictimIdentified": "true", "IsDistributed": "false",
         "Series": "S-1", "DateUpdated": "2023-06-07T02:31:49.8300Z", "PhotoDNA": "A" * 192,
         "MediaFiles": [{"MD5": MD5[0].upper(), "FileName": "IMG_0001.JPG",
                         "FilePath": "\\DCIM\\IMG_0001.JPG", "Deleted": "false"}],
         "AlternativeHashes": [
             {"MD5": MD5[0], "HashName": "sha256", "HashValue": SHA256[0].upper()},
             {"MD5": MD5[0], "HashName": "PhotoDNA", "HashValue": "B" * 192},
             {"MD5": MD5[0], "HashName": "Pdq", "HashValue": "f0" * 32}],
         "Exifs": [{"PropertyName": "Model", "PropertyValue": "Camera"}],
         "VendorSpecificKey": {"x": 1}},
        {"MediaID": "2", "Category": "2", "MD5": MD5[1], "MediaSize": 20480,
         "DateUpdated": "2023-06-07T02:31:49.000+01:00Z"},
        {"MediaID": 3, "Category": 0, "MD5": MD5[2]},
        {"MediaID": 4, "MD5": "1e" * 16},
        {"MediaID": 5, "Category": 4, "MD5": "2d" * 16},
    ]  # fmt: skip
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
    case = {"@odata.context": context, "value": [{
        "CaseID": "3f2b1c7e-0000-4000-8000-000000000001", "CaseNumber": "CASE-42",
        "SourceApplicationName": "TestExporter", "SourceApplicationVersion": "9.9",
        "Agency": "Test Agency", "Media": media}]}  # fmt: skip
    (HERE / "vics2-case.json").write_bytes(codecs.BOM_UTF8 + json.dumps(case, indent=1).encode())
    mislabeled = {**case, "@odata.context": context.replace("#Cases", "#Media")}
    (HERE / "vics2-mislabeled.json").write_text(json.dumps(mislabeled))
    flat = {"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
            "value": [{"odata.id": 'Media("AAAA")', "MediaID": 10, "Category": 1, "MD5": "AA" * 16,
                       "SHA1": "bb" * 20, "MediaFiles@odata.navigationLinkUrl": "x",
                       "MediaFiles": [{"Name": "old-name.jpg"}]},
                      {"MediaID": 11, "Category": 5, "MD5": "cc" * 16}]}  # fmt: skip
    (HERE / "vics13-flat.json").write_text(json.dumps(flat))
    (HERE / "vics13-flat-utf16.json").write_bytes(
        codecs.BOM_UTF16_LE + json.dumps(flat).encode("utf-16-le")
    )
    bad = {"@odata.context": context, "value": [{"MediaID": 1, "Category": 1, "MD5": "nothex"}]}
    (HERE / "vics2-bad-md5.json").write_text(json.dumps(bad))
    (HERE / "vics2-truncated.json").write_text(json.dumps(case)[:700])


def nsrl() -> None:
    for name, crc in (("rdsv3-minimal.db", True), ("rdsv3-no-crc32.db", False)):
        path = HERE / name
        path.unlink(missing_ok=True)
        db = sqlite3.connect(path)
        crc_col = "crc32 VARCHAR, " if crc else ""
        db.executescript(
            f"CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, {crc_col}"
            "file_name VARCHAR, file_size INTEGER, package_id INTEGER);"
            "CREATE TABLE PKG (package_id INTEGER, name VARCHAR, version VARCHAR, "
            "operating_system_id INTEGER, manufacturer_id INTEGER, language VARCHAR, "
            "application_type VARCHAR);"
            "CREATE TABLE VERSION (version VARCHAR UNIQUE, build_set VARCHAR, build_date "
            "TIMESTAMP, release_date TIMESTAMP, description VARCHAR);"
            + ("CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;"
               if crc else "")
        )  # fmt: skip
        for i in range(3):
            row = [SHA256[i].upper(), SHA1[i].upper(), MD5[i].upper()]
            row += (["C0FFEE00"] if crc else []) + [f"setup{i}.dll", 4096, 12345]
            db.execute(f"INSERT INTO FILE VALUES ({','.join('?' * len(row))})", row)
            db.execute(f"INSERT INTO FILE VALUES ({','.join('?' * len(row))})", row)  # 2 pkgs
        db.execute("INSERT INTO VERSION VALUES ('2024.03.1', 'modern', '2024-03-01', "
                   "'2024-03-05', 'RDSv3 test fixture')")  # fmt: skip
        db.commit()
        db.close()
    header = (
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
    )
    name = 'caf\xe9, \\"menu\\".txt'
    rows = [
        f'"{SHA1[0].upper()}","{MD5[0].upper()}","1234ABCD","{name}",512,1001,"358",""',
        f'"{SHA1[1].upper()}","{MD5[1].upper()}","1234ABCE","nc.exe",4096,1002,"WIN","M"',
    ]
    text = (header + "\r\n" + "\r\n".join(rows) + "\r\n").replace('\\"', '""')
    (HERE / "NSRLFile.txt").write_bytes(text.encode("latin-1"))
    with zipfile.ZipFile(HERE / "NSRLFile.txt.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("NSRLFile.txt", text.encode("latin-1"))


def suites() -> None:
    header = ('"file_id","hashset_id","file_name","directory","hash","file_size",'
              '"date_modified","time_modified","time_zone","comments","date_accessed",'
              '"time_accessed"')  # fmt: skip
    when = "7/1/03 0:00:00,7/1/03 0:00:00"
    rows = [f'17,5,"IMG1.JPG","C:\\PICS","{MD5[0].upper()}",20480,{when},"EST",,,',
            f'18,5,"IMG2.JPG","C:\\PICS","{MD5[1]}",1024,{when},"EST",,,']  # fmt: skip
    (HERE / "set.hsh").write_text(header + "\n" + "\n".join(rows) + "\n")
    path = HERE / "set.kdb"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE db_properties (name TEXT NOT NULL, value TEXT);"
        "INSERT INTO db_properties VALUES ('Schema Version', '1');"
        "CREATE TABLE hashes (id INTEGER PRIMARY KEY AUTOINCREMENT, md5 BINARY(16) UNIQUE, "
        "sha1 BINARY(20), sha2_256 BINARY(32));"
        "CREATE TABLE file_names (name TEXT NOT NULL, hash_id INTEGER NOT NULL);"
        "CREATE TABLE comments (comment TEXT NOT NULL, hash_id INTEGER NOT NULL);"
    )
    for i in range(2):
        db.execute("INSERT INTO hashes (md5) VALUES (?)", (bytes.fromhex(MD5[i]),))
        db.execute("INSERT INTO file_names VALUES (?, ?)", (f"known{i}.jpg", i + 1))
    db.commit()
    db.close()
    (HERE / "set.idx").write_text(f"{MD5[0]}|0\n{MD5[1].upper()}|131\n")
    header = b"HASH\r\n\xff\x00" + struct.pack("<III", 2, 1, 2)
    header = header.ljust(0x408, b"\x00") + "Test set".encode("utf-16-le").ljust(0x50, b"\x00")
    header = header.ljust(0x458, b"\x00") + "Notable".encode("utf-16-le").ljust(0x28, b"\x00")
    body = b"".join(bytes.fromhex(m) + b"\x00\x00" for m in MD5[:2])
    (HERE / "set.hash").write_bytes(header.ljust(0x480, b"\x00") + body)
    (HERE / "generic.csv").write_text(
        "Name;SHA-256;MD5;Category\n"
        f"a.jpg;{SHA256[0]};{MD5[0]};known-bad\n"
        f"b.jpg;;{MD5[1]};Grade B\n"
    )


if __name__ == "__main__":
    vics()
    nsrl()
    suites()
