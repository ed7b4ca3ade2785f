// Fuzzes ProtobufField.fields (the field-by-field reader behind gRPC Health and reflection requests and the served
// descriptor set) with properties that must hold for every input:
//
// - It does not depend on where the bytes lie: an array and an array slice at a non-zero index give the same fields
//   or the same error.
// - An error points inside the input; a length-delimited value is a slice of the input, at its place.
// - Writing the fields back (varints, length-delimited values; the other wire types are not written by anyone)
//   and reading them again gives the same fields.

/// Reads `input` as a message of fields and checks the properties above.
func fuzzFields(_ input: UnsafeRawBufferPointer) {
    let array = Array(input)
    let fromArray = outcome { () throws(DecodeError) in try ProtobufField.fields(of: array) }
    let slice = offsetSlice(input)
    let fromSlice = outcome { () throws(DecodeError) in try ProtobufField.fields(of: slice) }
    require(fromArray == fromSlice, "array slice reads differently: \(fromSlice) vs \(fromArray)")
    switch fromArray {
    case .failure(let error):
        require(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) outside the input")
    case .success(let fields):
        var writer = ProtobufMessageWriter()
        var written: [ProtobufField] = []
        for field in fields {
            switch field.value {
            case .lengthDelimited(let bytes):
                require(bytes.startIndex >= 0 && bytes.endIndex <= array.count, "value outside the input")
                require(Array(array[bytes.startIndex..<bytes.endIndex]) == Array(bytes), "value not at its place")
                writer.appendLengthDelimited(field.number, bytes)
                written.append(field)
            case .varint(let value) where value != 0:
                writer.appendVarint(field.number, value)
                written.append(field)
            default:
                break
            }
        }
        let reread = outcome { () throws(DecodeError) in try ProtobufField.fields(of: writer.bytes) }
        require(reread == .success(written), "written fields read back differently: \(reread) vs \(written)")
    }
}
