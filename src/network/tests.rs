//! Stage tests on fixture sysfs trees and the recording fake host.
