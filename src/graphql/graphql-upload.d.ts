// Types for the parts of graphql-upload 17 that memer uses (the package ships JSDoc-typed .mjs without declarations).
declare module 'graphql-upload/GraphQLUpload.mjs' {
  import type { GraphQLScalarType } from 'graphql';
  const GraphQLUpload: GraphQLScalarType;
  export default GraphQLUpload;
}

declare module 'graphql-upload/processRequest.mjs' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { Readable } from 'node:stream';

  export interface FileUpload {
    filename: string;
    mimetype: string;
    encoding: string;
    createReadStream(options?: { encoding?: BufferEncoding; highWaterMark?: number }): Readable;
  }

  export interface ProcessRequestOptions {
    maxFieldSize?: number;
    maxFileSize?: number;
    maxFiles?: number;
  }

  /** The request's `operations` with an Upload in place of each mapped file. */
  export default function processRequest(request: IncomingMessage, response: ServerResponse, options?: ProcessRequestOptions): Promise<Record<string, unknown> | Record<string, unknown>[]>;
}
