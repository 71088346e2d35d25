from rest_framework.pagination import PageNumberPagination
from rest_framework_gis.pagination import GeoJsonPagination


class FeaturePagination(GeoJsonPagination):
    """GeoJSON FeatureCollection pages; `page_size` may be asked for up to 1000."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response_schema(self, schema):
        # drf-spectacular hands over the FeatureCollection component of the list (its GIS list
        # extension); rest_framework_gis's own version renames `results` inside a plain page
        # and still requires `results`, which no page carries.
        page = {
            "type": "object",
            "required": ["type", "count", "features"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }
        return {"allOf": [schema, page]}


class QueuePagination(PageNumberPagination):
    """Plain (not GeoJSON) pages of a work queue: incidents, tasks, visits, notifications."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
