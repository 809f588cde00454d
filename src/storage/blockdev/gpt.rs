//! GPT partition type codes (sgdisk) and GUIDs (lsblk), both ways.

/// sgdisk type code → GPT type GUID (lower case), for the codes the plan uses.
pub fn type_guid(code: &str) -> Option<&'static str> {
    Some(match code.to_ascii_uppercase().as_str() {
        "EF00" => "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
        "FD00" => "a19d880f-05fc-4d3b-a006-743f0f84911e",
        "8E00" => "e6d6d379-f507-44c2-a23c-238f2a3df928",
        "8300" => "0fc63daf-8483-4772-8e79-3d69d8477de4",
        "8200" => "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
        _ => return None,
    })
}

/// GPT type GUID → sgdisk type code; unknown GUIDs come back as they are.
pub fn type_code(guid: &str) -> String {
    for code in ["EF00", "FD00", "8E00", "8300", "8200"] {
        if type_guid(code) == Some(guid.to_ascii_lowercase().as_str()) {
            return code.to_owned();
        }
    }
    guid.to_owned()
}
