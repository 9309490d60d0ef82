// XIR's serial_v2 protobuf schema (graph_proto_v2.proto in Xilinx/Vitis-AI, as Netron's xmodel reader
// decodes it), written as a protobufjs JSON descriptor so it needs no .proto parser at run time.
import protobuf from 'protobufjs/light.js';

const vec = (type: string) => ({ fields: { value: { rule: 'repeated', type, id: 1 } } });
const map = (valueType: string) => ({ fields: { value: { keyType: 'string', type: valueType, id: 1 } } });

const descriptor = {
  nested: {
    serial_v2: {
      nested: {
        Graph: {
          fields: {
            graph_name: { type: 'string', id: 1 },
            op_node: { rule: 'repeated', type: 'OPNode', id: 5 },
            subg_root: { type: 'SubGraph', id: 10 },
            graph_attr: { keyType: 'string', type: 'AttrValue', id: 11 },
            op_defs: { rule: 'repeated', type: 'OpDef', id: 101 },
          },
        },
        OPNode: {
          fields: {
            op_name: { type: 'string', id: 1 },
            op_type: { type: 'string', id: 2 },
            op_attr: { keyType: 'string', type: 'AttrValue', id: 3 },
            args: { rule: 'repeated', type: 'OpArg', id: 4 },
            output_tensor: { type: 'Tensor', id: 5 },
          },
        },
        OpArg: {
          fields: {
            arg_name: { type: 'string', id: 1 },
            arg_ops: { rule: 'repeated', type: 'string', id: 2 },
          },
        },
        Tensor: {
          fields: {
            tensor_name: { type: 'string', id: 1 },
            tensor_dim: { rule: 'repeated', type: 'uint32', id: 2 },
            data_type: { type: 'int32', id: 5 },
            tensor_bit_width: { type: 'int32', id: 6 },
            tensor_attr: { keyType: 'string', type: 'AttrValue', id: 10 },
          },
        },
        SubGraph: {
          fields: {
            subgraph_name: { type: 'string', id: 1 },
            op_name: { rule: 'repeated', type: 'string', id: 3 },
            subg_attr: { keyType: 'string', type: 'AttrValue', id: 5 },
            subg_child: { rule: 'repeated', type: 'SubGraph', id: 10 },
          },
        },
        OpDef: {
          fields: {
            name: { type: 'string', id: 1 },
            input_args: { rule: 'repeated', type: 'OpArgDef', id: 2 },
            attrs: { rule: 'repeated', type: 'AttrDef', id: 3 },
            annotation: { type: 'string', id: 4 },
          },
        },
        AttrDef: {
          fields: {
            name: { type: 'string', id: 1 },
            occur_type: { type: 'int32', id: 3 },
            default_value: { type: 'AttrValue', id: 4 },
            list_length: { type: 'int32', id: 6 },
            annotation: { type: 'string', id: 7 },
          },
        },
        OpArgDef: {
          fields: {
            name: { type: 'string', id: 1 },
            occur_type: { type: 'int32', id: 2 },
            data_type: { type: 'int32', id: 3 },
            annotation: { type: 'string', id: 4 },
          },
        },
        AttrValue: {
          oneofs: {
            value: {
              oneof: [
                'bool_value', 'int32_value', 'uint32_value', 'int64_value', 'uint64_value', 'float_value',
                'double_value', 'string_value', 'bytes_value', 'bool_vec_value', 'int32_vec_value',
                'uint32_vec_value', 'int64_vec_value', 'uint64_vec_value', 'float_vec_value', 'double_vec_value',
                'string_vec_value', 'bytes_vec_value', 'map_string_2_int32_value', 'map_string_2_uint32_value',
                'map_string_2_int64_value', 'map_string_2_uint64_value', 'map_string_2_string_value',
                'map_string_2_bytes_value', 'map_string_2_int32_vec_value', 'map_string_2_uint32_vec_value',
                'map_string_2_int64_vec_value', 'map_string_2_uint64_vec_value', 'map_string_2_string_vec_value',
              ],
            },
          },
          fields: {
            bool_value: { type: 'bool', id: 4 },
            int32_value: { type: 'int32', id: 5 },
            uint32_value: { type: 'uint32', id: 6 },
            int64_value: { type: 'int64', id: 7 },
            uint64_value: { type: 'uint64', id: 8 },
            float_value: { type: 'float', id: 9 },
            double_value: { type: 'double', id: 10 },
            string_value: { type: 'string', id: 11 },
            bytes_value: { type: 'Bytes', id: 12 },
            bool_vec_value: { type: 'BoolVec', id: 13 },
            int32_vec_value: { type: 'Int32Vec', id: 14 },
            uint32_vec_value: { type: 'Uint32Vec', id: 15 },
            int64_vec_value: { type: 'Int64Vec', id: 16 },
            uint64_vec_value: { type: 'Uint64Vec', id: 17 },
            float_vec_value: { type: 'FloatVec', id: 18 },
            double_vec_value: { type: 'DoubleVec', id: 19 },
            string_vec_value: { type: 'StringVec', id: 20 },
            bytes_vec_value: { type: 'BytesVec', id: 21 },
            map_string_2_int32_value: { type: 'MapString2Int32', id: 22 },
            map_string_2_uint32_value: { type: 'MapString2Uint32', id: 23 },
            map_string_2_int64_value: { type: 'MapString2Int64', id: 24 },
            map_string_2_uint64_value: { type: 'MapString2Uint64', id: 25 },
            map_string_2_string_value: { type: 'MapString2String', id: 26 },
            map_string_2_bytes_value: { type: 'MapString2Bytes', id: 27 },
            map_string_2_int32_vec_value: { type: 'MapString2Int32Vec', id: 28 },
            map_string_2_uint32_vec_value: { type: 'MapString2Uint32Vec', id: 29 },
            map_string_2_int64_vec_value: { type: 'MapString2Int64Vec', id: 30 },
            map_string_2_uint64_vec_value: { type: 'MapString2Uint64Vec', id: 31 },
            map_string_2_string_vec_value: { type: 'MapString2StringVec', id: 32 },
          },
        },
        Bytes: { fields: { value: { type: 'bytes', id: 1 } } },
        BoolVec: vec('bool'),
        Int32Vec: vec('int32'),
        Uint32Vec: vec('uint32'),
        Int64Vec: vec('int64'),
        Uint64Vec: vec('uint64'),
        FloatVec: vec('float'),
        DoubleVec: vec('double'),
        StringVec: vec('string'),
        BytesVec: vec('Bytes'),
        MapString2Int32: map('int32'),
        MapString2Uint32: map('uint32'),
        MapString2Int64: map('int64'),
        MapString2Uint64: map('uint64'),
        MapString2String: map('string'),
        MapString2Bytes: map('Bytes'),
        MapString2Int32Vec: map('Int32Vec'),
        MapString2Uint32Vec: map('Uint32Vec'),
        MapString2Int64Vec: map('Int64Vec'),
        MapString2Uint64Vec: map('Uint64Vec'),
        MapString2StringVec: map('StringVec'),
      },
    },
  },
};

export const GraphMessage: protobuf.Type = protobuf.Root.fromJSON(descriptor).lookupType('serial_v2.Graph');
