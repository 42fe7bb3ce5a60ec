import JQ

/// The programs of calculation properties, shared by every blueprint: compiled once when a
/// blueprint is read, run on every read.
let calculationPrograms = JQProgramCache()
