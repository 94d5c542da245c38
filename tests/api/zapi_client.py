"""A Z-API client as an integration would write one from Z-API's public
contract alone (../shared/zapi-contract.md): a base URL holding the instance
id and token, an optional Client-Token, JSON in and out. Nothing in it knows
PlugMessage."""

import httpx


class ZapiClient:
    def __init__(self, base_url: str, client_token: str | None = None):
        headers = {"Client-Token": client_token} if client_token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=10)

    def _json(self, response: httpx.Response):
        response.raise_for_status()
        return response.json() if response.content else None

    def status(self) -> dict:
        return self._json(self.http.get("/status"))

    def qr_code_image(self) -> str:
        return self._json(self.http.get("/qr-code/image"))["value"]

    def send_text(self, phone: str, message: str, **options) -> dict:
        body = {"phone": phone, "message": message, **options}
        return self._json(self.http.post("/send-text", json=body))

    def send_image(self, phone: str, image: str, caption: str = "") -> dict:
        body = {"phone": phone, "image": image, "caption": caption}
        return self._json(self.http.post("/send-image", json=body))

    def send_document(self, phone: str, document: str, extension: str, name: str):
        body = {"phone": phone, "document": document, "fileName": name}
        return self._json(self.http.post(f"/send-document/{extension}", json=body))

    def send_location(self, phone, title, address, latitude, longitude) -> dict:
        body = {
            "phone": phone,
            "title": title,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
        }
        return self._json(self.http.post("/send-location", json=body))

    def phone_exists(self, phone: str) -> bool:
        return self._json(self.http.get(f"/phone-exists/{phone}"))["exists"]

    def queue(self) -> list:
        return self._json(self.http.get("/queue", params={"page": 1, "pageSize": 10}))

    def disconnect(self) -> bool:
        return self._json(self.http.get("/disconnect"))["value"]
