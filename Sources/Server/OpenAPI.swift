// The OpenAPI 3 document of the API, served at /openapi.json (kept next to Routes.swift: a route
// added there is described here; ServerTests checks that every route is listed).
enum OpenAPI {
    static let document = #"""
{
  "openapi": "3.0.3",
  "info": {"title": "gar serve", "version": "1.0.0",
           "description": "Grasp Any Region on CPUs: open a video, segment and track regions, ask about them. Errors are {\"error\": \"one line\"}. /v1 routes need 'Authorization: Bearer TOKEN' when the server was started with --token."},
  "paths": {
    "/healthz": {"get": {"summary": "Liveness; answers while a long request runs", "responses": {
      "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    "/v1/media": {"get": {"summary": "Video files under the media root", "security": [{"bearer": []}], "responses": {
      "200": {"description": "relative paths", "content": {"application/json": {"schema": {"type": "object", "required": ["videos"],
        "properties": {"videos": {"type": "array", "items": {"type": "string"}}}}}}},
      "401": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos": {"post": {"summary": "Open a video of the media root, or upload one", "security": [{"bearer": []}],
      "requestBody": {"required": true, "content": {
        "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "description": "relative to --media-root"}}}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
      "responses": {"201": {"description": "the video's facts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Video"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos/{id}": {"get": {"summary": "A video's facts", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "responses": {"200": {"description": "facts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Video"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos/{id}/frames/{k}": {"get": {"summary": "Frame k as JPEG", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/VideoID"},
        {"name": "k", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}},
        {"name": "max_side", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 16, "maximum": 16384}}],
      "responses": {"200": {"description": "JPEG", "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos/{id}/segment": {"post": {"summary": "A prompt on a frame to a mask (the CLI's prompt-to-mask step)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Region"}}}},
      "responses": {"200": {"description": "the mask", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Segment"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos/{id}/tracks": {"post": {"summary": "Track regions through the video (a job)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["regions"], "properties": {
        "regions": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}},
        "frames": {"type": "integer", "minimum": 1, "description": "frames to track, spread uniformly (prompted frames added)"}}}}}},
      "responses": {"202": {"description": "the job, queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"}}}},
    "/v1/jobs/{id}": {"get": {"summary": "A track job: state, progress, and when done the masks", "security": [{"bearer": []}],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/videos/{id}/ask": {"post": {"summary": "Ask about regions (gar ask --json); stream=true gives text/event-stream: 'token' events {\"text\"}, then 'answer' (the full answer) or 'error'", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ask"}}}},
      "responses": {"200": {"description": "the answer (schema gar-video-answer-1), or an event stream", "content": {
          "application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"}}}},
    "/v1/chat/completions": {"post": {"summary": "OpenAI-compatible chat completion; the video and regions in 'gar'; <Prompt0>… in the text name the regions", "security": [{"bearer": []}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Chat"}}}},
      "responses": {"200": {"description": "chat.completion, or chat.completion.chunk events ending with data: [DONE]", "content": {
          "application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
        "429": {"$ref": "#/components/responses/Error"}}}}
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "parameters": {"VideoID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
    "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
      "Health": {"type": "object", "required": ["status", "model"], "properties": {"status": {"type": "string"}, "model": {"type": "string"},
        "queues": {"type": "array", "items": {"type": "object"}}}},
      "Video": {"type": "object", "required": ["id", "width", "height", "frame_count"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"},
        "fps": {"type": "number", "nullable": true}, "frame_count": {"type": "integer"}, "duration": {"type": "number", "nullable": true}}},
      "RLE": {"type": "object", "required": ["size", "counts"], "description": "COCO RLE (pycocotools): size [height, width], counts compressed string or run list",
        "properties": {"size": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
          "counts": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "integer"}}]}}},
      "Prompt": {"type": "object", "description": "exactly one of box, points, mask", "properties": {
        "box": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4, "description": "[x1, y1, x2, y2] inclusive pixels"},
        "points": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3}, "description": "[[x, y, label]], label 1 object / 0 background"},
        "mask": {"$ref": "#/components/schemas/RLE"}}},
      "Region": {"type": "object", "required": ["frame", "prompt"], "properties": {"frame": {"type": "integer", "minimum": 0}, "prompt": {"$ref": "#/components/schemas/Prompt"}}},
      "Segment": {"type": "object", "required": ["frame", "mask", "score", "object_score", "warnings"], "properties": {"frame": {"type": "integer"},
        "mask": {"$ref": "#/components/schemas/RLE"}, "score": {"type": "number", "nullable": true, "description": "SAM 2.1's predicted IoU of the chosen mask; null for the weight-free segmenter, a mask prompt, or a fallback to the prompt's own area"},
        "object_score": {"type": "number", "nullable": true, "description": "SAM 2.1's object score logit (> 0: an object); null when score is"},
        "area": {"type": "integer"}, "warnings": {"type": "array", "items": {"type": "string"}}}},
      "Job": {"type": "object", "required": ["id", "state", "progress"], "properties": {"id": {"type": "string"}, "video": {"type": "string"},
        "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
        "error": {"type": "string"},
        "result": {"type": "object", "description": "when done: width, height, frames [{index, time}], regions [{name, frames [{index, visible, confidence, lost, rle}]}], warnings"}}},
      "Ask": {"type": "object", "required": ["question"], "properties": {
        "regions": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}, "description": "region k = <Promptk>, tracked"},
        "track": {"type": "string", "description": "a finished track job (instead of regions)"},
        "question": {"type": "string"}, "choices": {"type": "array", "items": {"type": "string"}},
        "max_new_tokens": {"type": "integer", "minimum": 1}, "temperature": {"type": "number", "minimum": 0},
        "seed": {"type": "integer", "minimum": 0}, "stream": {"type": "boolean"}}},
      "Chat": {"type": "object", "required": ["messages"], "properties": {
        "model": {"type": "string"},
        "messages": {"type": "array", "items": {"type": "object", "required": ["role"], "properties": {"role": {"type": "string"},
          "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "properties": {"type": {"type": "string"}, "text": {"type": "string"}}}}]}}}},
        "stream": {"type": "boolean"}, "max_tokens": {"type": "integer", "minimum": 1}, "temperature": {"type": "number", "minimum": 0},
        "seed": {"type": "integer", "minimum": 0},
        "gar": {"type": "object", "required": ["video"], "properties": {"video": {"type": "string"},
          "regions": {"type": "array", "items": {"$ref": "#/components/schemas/Region"}}, "track": {"type": "string"},
          "choices": {"type": "array", "items": {"type": "string"}}}}}}
    }
  }
}
"""#
}
