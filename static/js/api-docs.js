// The API page (/api/docs): Swagger UI (static/vendor/swagger-ui) reading our OpenAPI
// document. Loaded from a file because the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return; // without JavaScript the page links the JSON document instead
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: false,
    validatorUrl: null // never send our document to a third-party validator
  });
})();
