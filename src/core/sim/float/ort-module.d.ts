// Types of `#ort` (package.json "imports"): onnxruntime-web's node or wasm build, both the common API.
export * from 'onnxruntime-common';
