"""Seed the device catalogue (the reference lecture's equipment list, the dedicated venous
stents and the Wallstent reference, docs/planning.md#device-catalogue) and one checklist
template per scenario (WHO surgical safety checklist phases, docs/planning.md#checklists).

Sizes are ``verified`` where the dimensions were verified (Zilver Vena, and the ranges of
sinus-XL and of the Wallstent's venous use; migration 0007 narrows that to exact sizes); every
other size is provisional and the planner warns about it until a guideline admin checks it
against the IFU. Each seeded row gets its "created"
history row. The texts, notes and the history reason below are written as they were when this
migration was first applied (with the former reference's notation, which migration 0009 turns
into words), so that a fresh database and an upgraded one hold the same rows.
"""

from django.db import migrations
from django.utils import timezone

REASON = "Seeded from CLINICAL_BRIEF.md §5.1, §6"


def _grid(diameters, lengths, *, french=None, verified=False, notes=""):
    return [
        {"diameter_mm": d, "length_mm": length, "french": french(d) if callable(french) else french,
         "verified": verified, "notes": notes}
        for d in diameters
        for length in lengths
    ]


STENTS = [
    {
        "code": "venovo", "name": "Venovo", "manufacturer": "BD (Bard)", "dedicated": True,
        "design": "Laser-cut, open-cell", "material": "Nitinol", "evidence": "V",
        "segments": ["CIV", "EIV", "CFV"], "position": 10,
        "notes": "FDA 2019 [V]. Sizes 10–20 mm × 40–160 mm [M]; delivery sheath 8 F (10–14 mm) "
        "/ 9 F (16–20 mm) [M].",
        "sizes": _grid([10, 12, 14, 16, 18, 20], [40, 60, 80, 100, 120, 140, 160],
                       french=lambda d: 8 if d <= 14 else 9),
    },
    {
        "code": "vici", "name": "Vici", "manufacturer": "Boston Scientific (ex-Veniti)",
        "dedicated": True, "design": "Laser-cut, closed-cell, high crush resistance",
        "material": "Nitinol", "evidence": "V", "segments": ["CIV", "EIV", "CFV"], "position": 20,
        "notes": "FDA 2019 [V]. Sizes 12, 14, 16 mm × 60, 90, 120 mm [M]; delivery 9 F [M].",
        "sizes": _grid([12, 14, 16], [60, 90, 120], french=9),
    },
    {
        "code": "abre", "name": "Abre", "manufacturer": "Medtronic", "dedicated": True,
        "design": "Laser-cut open lattice, three offset connection points",
        "material": "Nitinol", "evidence": "V", "segments": ["CIV", "EIV", "CFV"], "position": 30,
        "notes": "9 F delivery, 0.035″ wire [V]; CE 2017, FDA 2020 [V]. Sizes 10–20 mm × "
        "60–150 mm [M].",
        "sizes": _grid([10, 12, 14, 16, 18, 20], [60, 80, 100, 120, 150], french=9),
    },
    {
        "code": "zilver-vena", "name": "Zilver Vena", "manufacturer": "Cook Medical",
        "dedicated": True, "design": "Open-cell", "material": "Nitinol", "evidence": "V",
        "segments": ["CIV", "EIV"], "position": 40,
        "notes": "14 and 16 mm × 60, 100, 140 mm [V]; CE 2010, FDA 2020 [V].",
        "sizes": _grid([14, 16], [60, 100, 140], verified=True),
    },
    {
        "code": "sinus-xl", "name": "sinus-XL", "manufacturer": "optimed", "dedicated": True,
        "design": "Closed-cell", "material": "Nitinol [M]", "evidence": "V",
        "segments": ["IVC", "CIV"], "position": 50,
        "notes": "16–36 mm × 30–100 mm, usable in IVC and CIV [V]; intermediate steps and the "
        "delivery sheath per IFU.",
        "sizes": _grid([16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36], [30, 40, 60, 80, 100],
                       verified=True, notes="range [V]"),
    },
    {
        "code": "sinus-venous", "name": "sinus-Venous", "manufacturer": "optimed",
        "dedicated": True, "design": "Independent-ring system", "material": "Nitinol [M]",
        "evidence": "M", "segments": ["CIV", "EIV", "CFV"], "position": 60,
        "notes": "Sizes not verified: add them from the IFU.", "sizes": [],
    },
    {
        "code": "sinus-obliquus", "name": "sinus-Obliquus", "manufacturer": "optimed",
        "dedicated": True, "design": "Oblique cranial end for the iliocaval confluence [M]",
        "material": "Nitinol [M]", "evidence": "M", "segments": ["CIV"], "position": 70,
        "notes": "Sizes not verified: add them from the IFU.", "sizes": [],
    },
    {
        "code": "atlas-venous", "name": "Atlas Venous Stent", "manufacturer": "INVAMED",
        "dedicated": True, "design": "Large-cell design", "material": "Self-expanding nitinol",
        "evidence": "S", "segments": ["CIV", "EIV", "CFV"], "position": 80,
        "notes": "Indications: iliofemoral outflow obstruction, PTS, stenoses from extrinsic "
        "compression or scar [S]. Not the Bard ATLAS PTA balloon. Sizes not verified.",
        "sizes": [],
    },
    {
        "code": "duo-venous", "name": "Duo Venous Stent System (Hybrid / Extend)",
        "manufacturer": "Veryan (Philips)", "dedicated": True,
        "design": "Hybrid for the CIV, Extend across the ligament [M]", "material": "Nitinol [M]",
        "evidence": "M", "segments": ["CIV", "EIV", "CFV"], "position": 85,
        "notes": "US launch expected 2024 [V]. Sizes not verified.", "sizes": [],
    },
    {
        "code": "blueflow", "name": "Blueflow", "manufacturer": "plus medica", "dedicated": True,
        "design": "", "material": "", "evidence": "M", "segments": [], "position": 88,
        "notes": "Design, material and sizes not verified.", "sizes": [],
    },
    {
        "code": "wallstent", "name": "Wallstent", "manufacturer": "Boston Scientific",
        "dedicated": False,
        "design": "Braided, closed-cell; foreshortens with expansion (more overlap needed)",
        "material": "Cobalt-chromium-nickel alloy (Elgiloy) with radiopaque core [M]",
        "evidence": "V", "segments": ["IVC", "CIV", "EIV", "CFV"], "position": 90,
        "notes": "Non-dedicated reference. 10–16 mm × 2–9 cm cited for venous use [V]; up to "
        "24 mm in the IVC [M].",
        "sizes": _grid([10, 12, 14, 16], [20, 40, 60, 90], verified=True, notes="range [V]")
        + _grid([18, 20, 22, 24], [40, 60, 90]),
    },
]

EQUIPMENT = [
    {
        "code": "introducer-sheath", "kind": "sheath", "name": "Introducer sheath",
        "manufacturer": "", "planner_use": "sheath", "evidence": "S", "position": 10,
        "notes": "Seed: 6 F + 10 F; larger sizes for large stents.",
        "sizes": [{"french": f} for f in (6, 7, 8, 9, 10, 11, 12, 14, 16)],
    },
    {
        "code": "terumo-stiff-angled", "kind": "wire",
        "name": "0.035″ hydrophilic stiff-angled guidewire (Terumo Radifocus)",
        "manufacturer": "Terumo", "planner_use": "working_wire", "evidence": "S", "position": 10,
        "sizes": [{"wire_inch": "0.035", "length_mm": 1500}, {"wire_inch": "0.035",
                                                              "length_mm": 2600}],
    },
    {
        "code": "asahi-astato-30", "kind": "wire", "name": "Asahi Astato 30",
        "manufacturer": "Asahi Intecc", "planner_use": "cto_wire", "evidence": "S",
        "position": 20, "notes": "[M] 0.018″ class, 30 g tip load — verify",
        "sizes": [{"wire_inch": "0.018"}],
    },
    {
        "code": "mp-catheter", "kind": "catheter", "name": "MP (multipurpose) catheter",
        "planner_use": "support_catheter", "evidence": "S", "position": 10, "sizes": [],
    },
    {
        "code": "cook-cxi", "kind": "catheter", "name": "CXI support catheter (Cook)",
        "manufacturer": "Cook Medical", "planner_use": "support_catheter", "evidence": "S",
        "position": 20, "sizes": [],
    },
    {
        "code": "bd-seeker", "kind": "catheter", "name": "Seeker crossing support catheter (BD)",
        "manufacturer": "BD", "planner_use": "support_catheter", "evidence": "S",
        "position": 30, "sizes": [],
    },
    {
        "code": "ivus-catheter", "kind": "ivus", "name": "IVUS catheter (large-vessel, 0.035″)",
        "planner_use": "ivus", "evidence": "S", "position": 10,
        "notes": "Model per centre; the VIDIO trial favours IVUS over venography alone.",
        "sizes": [],
    },
    {
        "code": "atlas-pta", "kind": "balloon",
        "name": "ATLAS PTA high-pressure non-compliant balloon",
        "manufacturer": "BD (Bard)", "planner_use": "nc_balloon", "evidence": "S", "position": 10,
        "notes": "The seed's \"Atlas\" is this balloon, not the INVAMED Atlas stent. Sizes [M].",
        "sizes": _grid([12, 14, 16, 18, 20, 22, 24], [20, 40, 60]),
    },
    {
        "code": "presto", "kind": "manometer",
        "name": "Presto high-pressure inflation device (BD)", "manufacturer": "BD",
        "planner_use": "manometer", "evidence": "S", "position": 10, "sizes": [],
    },
]

_COMMON = {
    "preparation": [
        "Informed consent covers recanalization, stenting and the antithrombotic plan",
        "Pre-procedural imaging available (duplex; CT/MR venography where done)",
        "Labs: renal function, blood count, coagulation; anticoagulant paused per protocol",
    ],
    "sign_in": [
        "Patient identity, procedure, side and consent confirmed",
        "Access sites marked",
        "Allergies checked (contrast, latex, heparin)",
        "Pregnancy excluded where relevant",
        "Contraindications reviewed (tortuosity, diameter mismatch, infection, general)",
        "Anaesthesia / sedation safety check completed; pulse oximeter on and working",
        "Airway and aspiration risk assessed",
    ],
    "time_out": [
        "All team members introduced by name and role",
        "Patient, procedure, side and access sites confirmed by the team",
        "Essential imaging displayed",
        "Operator reviews critical steps, expected duration and blood loss",
        "Anaesthesia reviews patient-specific concerns",
        "Nursing confirms sterility and that the equipment list is complete",
        "Antibiotic prophylaxis given if indicated",
    ],
    "sign_out": [
        "Procedure as performed recorded",
        "Implanted devices and lot numbers recorded",
        "Wires, sheaths and sponges counted; all guidewires removed",
        "Access-site haemostasis checked",
        "Post-procedure antithrombotic regimen prescribed",
        "Follow-up duplex before discharge requested",
        "Key concerns for recovery handed over (puncture sites, leg elevation, compression)",
    ],
}

_SCENARIO = {
    "acute_thrombus_removal": {
        "name": "Acute iliofemoral thrombus removal",
        "description": "Early thrombus removal for acute iliofemoral DVT (§5.2: ipsilateral "
        "popliteal access, prone).",
        "preparation": [
            "Thrombus removal device / thrombolytic prepared per centre protocol",
            "Bleeding-risk contraindications to thrombolysis reviewed (§4.5)",
        ],
        "time_out": ["Plan for venography and IVUS after clearance to look for an underlying "
                     "iliac lesion"],
        "sign_out": ["Anticoagulation at least as long as without thrombus removal prescribed"],
    },
    "nivl_stenting": {
        "name": "NIVL stenting",
        "description": "Stenting of a non-thrombotic iliac vein lesion (May-Thurner and other "
        "compressions).",
        "time_out": ["Stent covers the iliocaval junction; IVC protrusion agreed"],
    },
    "chronic_recanalization": {
        "name": "Chronic post-thrombotic recanalization",
        "description": "Recanalization and stenting of a chronic post-thrombotic obstruction.",
        "preparation": ["Inflow (FV and/or DFV feeding the CFV) confirmed patent"],
        "time_out": ["Landing zones agreed: healthy inflow to healthy outflow; below the "
                     "ligament to the FV/DFV confluence if the CFV is diseased"],
    },
    "ivc_reconstruction": {
        "name": "IVC reconstruction (inverted-Y)",
        "description": "Caval reconstruction with bilateral extension (seed 001).",
        "preparation": [
            "Cross-sectional imaging (CT/MR venography) reviewed: caval anatomy, renal veins",
            "Bilateral access and right internal jugular access prepared",
        ],
        "time_out": [
            "Confluence technique agreed (double-barrel, Y-fenestration or neo-cava)",
            "Sizing per level confirmed on IVUS (IVC wider than the iliac limbs)",
        ],
        "sign_out": ["Lifelong surveillance (duplex; CT venography at about 12 months) "
                     "arranged"],
    },
}


def _create(apps, model_name, now, **values):
    model = apps.get_model("planning", model_name)
    history = apps.get_model("planning", f"Historical{model_name}")
    obj = model.objects.create(**values)
    history.objects.create(
        history_date=now,
        history_type="+",
        history_change_reason=REASON,
        **{f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields},
    )
    return obj


def seed(apps, schema_editor):
    now = timezone.now()
    for spec in STENTS:
        spec = dict(spec)
        sizes = spec.pop("sizes")
        device = _create(apps, "Device", now, kind="stent", **spec)
        for size in sizes:
            _create(apps, "DeviceSize", now, device=device, **size)
    for spec in EQUIPMENT:
        spec = dict(spec)
        sizes = spec.pop("sizes")
        device = _create(apps, "Device", now, **spec)
        for size in sizes:
            _create(apps, "DeviceSize", now, device=device, **size)
    for scenario, spec in _SCENARIO.items():
        template = _create(
            apps, "ChecklistTemplate", now, scenario=scenario, name=spec["name"],
            description=spec["description"],
        )
        for phase, common in _COMMON.items():
            texts = (spec.get(phase, []) + common) if phase == "preparation" else (
                common + spec.get(phase, []))
            for position, text in enumerate(texts, start=1):
                _create(apps, "ChecklistTemplateItem", now, template=template, phase=phase,
                        position=position * 10, text=text)


def unseed(apps, schema_editor):
    for name in ("ChecklistTemplateItem", "ChecklistTemplate", "DeviceSize", "Device"):
        apps.get_model("planning", f"Historical{name}").objects.filter(
            history_change_reason=REASON).delete()
        apps.get_model("planning", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0002_roles")]

    operations = [migrations.RunPython(seed, unseed)]
