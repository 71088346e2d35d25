"""OpenAPI for boundary features. Their geometry is the boundary version valid on the asked
date (an annotation, not a model field), which drf-spectacular's GIS support cannot look up."""

from django.contrib.gis.db.models import MultiPolygonField, PointField
from drf_spectacular.contrib.rest_framework_gis import (
    GeoFeatureModelSerializerExtension,
    build_geo_schema,
)
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_object_type

BOUNDARY_SCHEMA = build_geo_schema(MultiPolygonField(srid=4326))


class BoundaryFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "grids.api.serializers.BoundaryField"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return BOUNDARY_SCHEMA


class BoundaryFeatureExtension(GeoFeatureModelSerializerExtension):
    target_class = "grids.api.serializers.BoundaryFeatureSerializer"
    match_subclasses = True
    priority = 1

    def map_serializer(self, auto_schema, direction):
        properties = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        properties["properties"].pop("geom")
        properties.pop("required", None)
        properties.pop("description", None)
        feature = {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": properties["properties"].pop("id"),
            "geometry": BOUNDARY_SCHEMA,
            "properties": properties,
        }
        return build_object_type(properties=feature)


POINT_SCHEMA = build_geo_schema(PointField(srid=4326))


class PointFieldExtension(OpenApiSerializerFieldExtension):
    """Points sent to the API (incidents, visits): GeoJSON points."""

    target_class = "incidents.api.serializers.PointField"
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return POINT_SCHEMA
