// Types of the generated static protobuf code (xir.gen.js): the codec treats messages as plain objects.
/* eslint-disable @typescript-eslint/no-explicit-any */
export declare const serial_v2: {
  readonly Graph: {
    decode(bytes: Uint8Array): any;
    encode(message: any): { finish(): Uint8Array };
    fromObject(object: any): any;
  };
};
