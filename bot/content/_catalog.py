"""The intent ids fixed by the intent catalog: evaluation sets and reports refer to them."""

CATALOG_IDS: tuple[str, ...] = (
    # Bone biology and the medicines
    "bone_remodeling", "estrogen_role", "what_is_ai", "why_ai_prescribed", "ai_bone_loss_mechanism",
    "osteopenia_osteoporosis", "fracture_risk", "bone_loss_rate", "atac_results", "tamoxifen_comparison",
    "what_is_bmd", "rank_rankl_opg",
    # Monitoring
    "dexa_scan", "dexa_schedule", "risk_factors", "men_trt",
    # Protecting bone
    "prevention_overview", "bisphosphonates", "denosumab", "treatment_evidence", "choosing_treatment",
    "recovery_after_stopping", "should_i_stop_ai",
    # Feelings, reflection and the care team
    "feelings_and_symptoms", "questions_for_care_team", "sources",
    # Conversation and safety
    "greeting", "thanks", "bot_help", "set_reminder", "medication_dose", "urgent_symptoms", "crisis",
)  # fmt: skip

# Depth levels the catalog lists for each article intent ("Tell me more" goes through them in order).
CATALOG_DEPTHS: dict[str, tuple[str, ...]] = {
    "bone_remodeling": ("F", "A"), "estrogen_role": ("F", "A"), "what_is_ai": ("F",),
    "why_ai_prescribed": ("F",), "ai_bone_loss_mechanism": ("F", "I", "A"), "osteopenia_osteoporosis": ("F",),
    "fracture_risk": ("F", "I"), "bone_loss_rate": ("I",), "atac_results": ("I",), "tamoxifen_comparison": ("I",),
    "what_is_bmd": ("F",), "rank_rankl_opg": ("A",), "dexa_scan": ("I",), "dexa_schedule": ("I",),
    "risk_factors": ("I",), "men_trt": ("F", "I"), "prevention_overview": ("I",), "bisphosphonates": ("A",),
    "denosumab": ("A",), "treatment_evidence": ("A",), "choosing_treatment": ("A",),
    "recovery_after_stopping": ("I",), "should_i_stop_ai": ("F",), "feelings_and_symptoms": ("F",),
    "questions_for_care_team": ("F",),
}  # fmt: skip
